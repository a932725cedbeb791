"""Per-token log-probabilities of the response tokens of a Batch, in response-aligned layout."""

from __future__ import annotations

import torch

from cdpo_trainer.train.batching import Batch


def response_logits(model, batch: Batch) -> torch.Tensor:
    """One forward over the whole batch; returns the logits that predict each response token.

    -> [N, T, V] float32. Only the response positions are kept before the softmax, so the
    [N, L, V] log-softmax of the prompt is never built. No attention mask: rows are right-padded,
    and under causal attention a real token only sees earlier positions, all real; the padding
    after it changes nothing, while a mask would cost SDPA its fused causal path.
    """
    logits = model(input_ids=batch.input_ids, use_cache=False).logits  # [N, L, V]
    index = batch.resp_positions.unsqueeze(-1).expand(-1, -1, logits.size(-1))  # [N, T, V]
    # float32: log-ratios are differences of large, close numbers; bf16 would swamp them.
    return logits.gather(1, index).float()


def token_logps(logits: torch.Tensor, targets: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """log p(target) at every response position, zero on padding. [N, T, V], [N, T], [N, T] -> [N, T]."""
    picked = logits.gather(-1, targets.unsqueeze(-1)).squeeze(-1)  # [N, T]
    return (picked - torch.logsumexp(logits, dim=-1)) * mask
