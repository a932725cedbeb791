"""Contrastive estimation on the device (method.md section 3), for checkpoints whose vocabulary
makes shipping full distributions to the kit impractical (Llama-3: 128k floats per token).

    s_t = softmax_v((1 + beta) lp_pos(v) - beta lp_neg(v))[y_t]

The same formula as src/critical/contrastive.ts (which works from the distributions the kit
receives); here the two models' log-softmax rows never leave the device and only s_t and the two
log-probs of the realised token come back. float32 log-softmax, the combination in float64.
"""

from __future__ import annotations

from typing import Any

import torch

from cdpo_trainer.lm.torch_lm import TorchLM


def contrastive_scores(pos: TorchLM, neg: TorchLM, items: list[dict[str, Any]], betas: list[float]) -> list[dict[str, Any]]:
    """Per item {"s": one list per beta, "lp_pos", "lp_neg"}: one float per continuation token."""
    if not betas:
        raise ValueError("Cannot compute contrastive scores: no beta given")
    if pos.vocab_size != neg.vocab_size:
        raise ValueError(f"Cannot compute contrastive scores: vocabularies differ ({pos.vocab_size} vs {neg.vocab_size})")
    seqs, spans = pos.score_inputs(items)
    lp_pos = pos._forward_right_padded(seqs)  # [B, S, V] float32 log-softmax
    lp_neg = neg._forward_right_padded(seqs).to(lp_pos.device)
    out = []
    for b, (p, t) in enumerate(spans):
        if t == 0:
            out.append({"s": [[] for _ in betas], "lp_pos": [], "lp_neg": []})
            continue
        target = torch.tensor(seqs[b][p : p + t], device=lp_pos.device)[:, None]
        rows_pos, rows_neg = lp_pos[b, p - 1 : p - 1 + t], lp_neg[b, p - 1 : p - 1 + t]  # [T, V]
        s_per_beta = []
        for beta in betas:
            z = (1 + beta) * rows_pos.double() - beta * rows_neg.double()
            s_per_beta.append((z.gather(1, target)[:, 0] - torch.logsumexp(z, dim=-1)).exp().cpu().tolist())
        out.append({
            "s": s_per_beta,
            "lp_pos": rows_pos.gather(1, target)[:, 0].cpu().tolist(),
            "lp_neg": rows_neg.gather(1, target)[:, 0].cpu().tolist(),
        })
    return out
