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
