"""Held-out evaluation during training (Figure 6, measured as it should be): on a fixed set of
pairs the policy never trains on, every `eval_every` steps (and before the first), the mean summed
log-probability of the chosen responses, of the rejected responses, and of the rejected
responses' critical tokens alone.

The pairs file has the preference pairs' fields plus `rejected_critical`: the response positions
of the rejected response's critical tokens (the kit writes its CE critical token, argmin s_t).
"""

from __future__ import annotations

from pathlib import Path
from typing import Callable

import torch

from cdpo_trainer.train.batching import PairExample, pair_batch, read_pairs, read_records, record_error
from cdpo_trainer.train.response_logprobs import response_logits, token_logps


def read_critical(path: str | Path, pairs: list[PairExample]) -> list[list[int]]:
    """The `rejected_critical` positions of each pair, checked against its rejected response."""
    path = Path(path)
    out = []
    for (index, record), pair in zip(read_records(path), pairs):
        critical = record.get("rejected_critical")
        if not isinstance(critical, list) or not all(isinstance(p, int) and not isinstance(p, bool) for p in critical):
            raise record_error(path, index, "field 'rejected_critical' must be a list of response positions")
        for p in critical:
            # EOS is the last rejected token and never a critical token of the response itself.
            if not 0 <= p < len(pair.rejected_ids) - 1:
                raise record_error(path, index, f"field 'rejected_critical' holds {p}, outside the rejected response")
        out.append(critical)
    return out


def heldout_evaluator(path: str, eos: int, vocab: int | None, pad: int, batch_size: int, device: str) -> Callable:
    """Reads the held-out pairs now (bad input fails before any step) and returns evaluate(model)."""
    pairs = read_pairs(path, eos, vocab)
    critical = read_critical(path, pairs)

    def evaluate(model) -> dict[str, float]:
        was_training = model.training
        model.eval()
        sums = {"eval_logp_chosen": 0.0, "eval_logp_rejected": 0.0, "eval_logp_critical": 0.0}
        with torch.no_grad():
            for start in range(0, len(pairs), batch_size):
                chunk = pairs[start : start + batch_size]
                batch = pair_batch(chunk, pad).to(device)
                logps = token_logps(response_logits(model, batch), batch.resp_targets, batch.resp_mask)  # [2B, T]
                b = len(chunk)
                sums["eval_logp_chosen"] += float(logps[:b].sum())
                sums["eval_logp_rejected"] += float(logps[b:].sum())
                for i, positions in enumerate(critical[start : start + b]):
                    sums["eval_logp_critical"] += float(logps[b + i, positions].sum())
        if was_training:
            model.train()
        return {k: v / len(pairs) for k, v in sums.items()}

    return evaluate
