"""The kit's seeded generator, ported from src/random.ts so both backends draw the same numbers.

Sampling draws one uniform number per step from `KitRandom.derive(seed, prompt_index,
sample_index)`, so batch composition never changes a sample.
"""

from __future__ import annotations

_M32 = 0xFFFFFFFF


def _rotl(x: int, k: int) -> int:
    return ((x << k) | (x >> (32 - k))) & _M32


def hash_seed(seed: int, *labels: str | int) -> int:
    """FNV-1a over the labels' text joined by NUL, started from the seed (as src/random.ts)."""
    h = (0x811C9DC5 ^ (seed & _M32)) & _M32
    for ch in "\u0000".join(str(label) for label in labels):
        h ^= ord(ch)
        h = (h * 0x01000193) & _M32
    return h


class KitRandom:
    """xoshiro128** seeded by SplitMix32: the same stream as `new Random(seed)` in TypeScript."""

    def __init__(self, seed: int) -> None:
        x = seed & _M32
        state = []
        for _ in range(4):
            x = (x + 0x9E3779B9) & _M32
            z = x
            z = ((z ^ (z >> 16)) * 0x85EBCA6B) & _M32
            z = ((z ^ (z >> 13)) * 0xC2B2AE35) & _M32
            state.append((z ^ (z >> 16)) & _M32)
        self.s = state

    @staticmethod
    def derive(seed: int, *labels: str | int) -> "KitRandom":
        return KitRandom(hash_seed(seed, *labels))

    def next_uint32(self) -> int:
        s0, s1, s2, s3 = self.s
        result = (_rotl((s1 * 5) & _M32, 7) * 9) & _M32
        t = (s1 << 9) & _M32
        s2 ^= s0
        s3 ^= s1
        s1 ^= s2
        s0 ^= s3
        s2 ^= t
        s3 = _rotl(s3, 11)
        self.s = [s0, s1, s2, s3]
        return result

    def next(self) -> float:
        return self.next_uint32() / 4294967296.0
