"""The token selection rule, the twin of src/lm/sampling.ts: both backends pick the same token."""

from __future__ import annotations

from typing import Iterable

import numpy as np


def select_token(logits: np.ndarray, temperature: float, top_p: float, banned: Iterable[int], u: float) -> int:
    """Picks a token id from one row of float32 logits.

    temperature 0: argmax (lowest id on ties). Otherwise weights exp((z - max) / T) in float64;
    with top_p < 1 the candidates are ordered by weight (ties by id) and cut to the smallest
    prefix whose mass reaches top_p of the total; then the first candidate whose running mass
    exceeds u * (kept mass) wins. With top_p >= 1 the order is by id. Banned ids get weight 0.
    """
    z = logits.astype(np.float64)
    banned = [b for b in banned]
    if banned:
        z[banned] = -np.inf
    if not np.isfinite(z).any():
        raise ValueError("Cannot select a token: every token is banned")
    if temperature == 0:
        return int(np.argmax(z))
    w = np.exp((z - z.max()) / temperature)
    if top_p < 1.0:
        order = np.lexsort((np.arange(len(w)), -w))  # by weight desc, then id asc
        csum = np.cumsum(w[order])  # sequential sums, as in TypeScript
        total = csum[-1]
        k = int(np.searchsorted(csum, top_p * total, side="left")) + 1
        k = min(k, len(w))
        order, csum = order[:k], csum[:k]
    else:
        order = np.arange(len(w))
        csum = np.cumsum(w)
    target = u * csum[-1]
    idx = int(np.searchsorted(csum, target, side="right"))
    idx = min(idx, len(order) - 1)
    # Never land on a zero-weight token (possible only when u*mass rounds onto a plateau).
    while w[order[idx]] == 0 and idx > 0:
        idx -= 1
    return int(order[idx])


def select_tokens(logits: np.ndarray, temperature: float, top_p: float, banned: list[list[int]],
                  us: list[float]) -> list[int]:
    """`select_token` for every row of a [B, V] float32 matrix at once, with the same result per row.

    The heavy parts are whole-matrix numpy calls (exp, one float sort, running sums); per row only
    a search is left. The (weight desc, id asc) order is never materialised: as in
    src/lm/sampling.ts, running sums see only weight values, so the winning position's value and
    its rank among equal values name the id.
    """
    z = logits.astype(np.float64)
    for b, ids in enumerate(banned):
        if ids:
            z[b, ids] = -np.inf
    top = z.max(axis=1, keepdims=True)
    if not np.isfinite(top).all():
        raise ValueError("Cannot select a token: every token is banned")
    if temperature == 0:
        return [int(i) for i in np.argmax(z, axis=1)]
    w = np.exp((z - top) / temperature)
    out = []
    if top_p >= 1.0:
        csum = np.cumsum(w, axis=1)  # sequential sums in id order, as in TypeScript
        for b, u in enumerate(us):
            idx = min(int(np.searchsorted(csum[b], u * csum[b, -1], side="right")), w.shape[1] - 1)
            while w[b, idx] == 0 and idx > 0:
                idx -= 1
            out.append(idx)
        return out
    desc = -np.sort(-w, axis=1)  # each row's weights, largest first
    csum = np.cumsum(desc, axis=1)
    for b, u in enumerate(us):
        kept = min(int(np.searchsorted(csum[b], top_p * csum[b, -1], side="left")) + 1, w.shape[1])
        idx = min(int(np.searchsorted(csum[b, :kept], u * csum[b, kept - 1], side="right")), kept - 1)
        while desc[b, idx] == 0 and idx > 0:
            idx -= 1
        value = desc[b, idx]
        rank = idx - int(np.searchsorted(-desc[b], -value, side="left"))  # earlier equal weights
        out.append(int(np.flatnonzero(w[b] == value)[rank]))
    return out
