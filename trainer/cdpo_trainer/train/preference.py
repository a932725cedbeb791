"""Preference training: DPO, RPO, TokenDPO (TDPO1/2) and cDPO behind one per-token weight interface.

Per step: ONE policy forward over the batch's chosen and rejected rows together ([2B, L]), the
reference's per-token log-probs from the disk cache (reference_cache.py), then the objective
(losses.py) on response-aligned [B, T] tensors. cDPO differs from DPO only in the weights tensor
it passes (mask * (1 - s_t) on the rejected side instead of mask), so its step costs what a DPO
step costs. TokenDPO also needs the reference's full distribution: it runs a no-grad reference
forward per step (see reference_cache.py for why that is not cached).

Metrics per step (method.md, Figure 6): loss; reward_margin and reward_accuracy from the
unweighted implicit rewards beta * sum_t r_t (unweighted for every objective, so the curves of
DPO and cDPO are comparable); logp_chosen / logp_rejected, the policy's summed log-prob of the
responses (EOS included), batch mean.
"""

from __future__ import annotations

import tempfile
import time
from pathlib import Path
from typing import Any

import torch

from cdpo_trainer.train import loop

from cdpo_trainer.train import losses

from cdpo_trainer.train import reference_cache
from cdpo_trainer.train.heldout import heldout_evaluator
from cdpo_trainer.train.batching import PairExample, batch_order, pair_batch, read_pairs
from cdpo_trainer.models.model_dir import eos_token_id, file_hash, load_model, model_hash, pad_token_id, read_config
from cdpo_trainer.train.response_logprobs import response_logits, token_logps
from cdpo_trainer.train.config import TrainConfig
from cdpo_trainer.train.distributed import world


def objective_loss(
    cfg: TrainConfig,
    logps: torch.Tensor,
    ref_logps: torch.Tensor,
    mask: torch.Tensor,
    weights: torch.Tensor,
    seq_kl: torch.Tensor | None = None,
) -> tuple[torch.Tensor, dict[str, float]]:
    """The configured objective on one pair batch, plus its metrics.

    logps, ref_logps, mask, weights: [2B, T] response-aligned, rows 0..B-1 chosen, B..2B-1 rejected.
    weights carry (1 - s_t) on rejected tokens (1 on EOS, 0 on padding); only cDPO reads them.
    seq_kl: [2B] D(y) = sum_t KL(pi_ref || pi), required by tdpo1/tdpo2.
    """
    b = logps.size(0) // 2
    r = logps - ref_logps  # [2B, T] per-token log-ratios, zero on padding
    r_w, r_l = r[:b], r[b:]  # [B, T] each
    m_w, m_l = mask[:b], mask[b:]
    u = losses.weighted_logratio_sum(r_w, m_w) - losses.weighted_logratio_sum(r_l, m_l)  # [B] unweighted margin
    objective = cfg.objective
    name = objective.name
    # The preference temperature: beta for DPO, RPO and TokenDPO, gamma for cDPO.
    beta = objective.gamma if name == "cdpo" else objective.beta
    extra: dict[str, float] = {}
    if name == "dpo":
        loss = losses.dpo_loss(u, beta).mean()
    elif name == "rpo":
        loss = losses.rpo_loss(u, beta, logps[:b], m_w, objective.alpha)
    elif name == "cdpo":
        w_l = weights[b:]
        if objective.form == "sequence":
            loss = losses.cdpo_sequence_loss(r_w, m_w, r_l, w_l, beta).mean()
        else:
            loss = losses.cdpo_position_loss(r_w, m_w, r_l, w_l, beta)
    elif name in ("tdpo1", "tdpo2"):
        if seq_kl is None:
            raise ValueError("Cannot compute TDPO: seq_kl (the per-sequence KL to the reference) is required")
        variant = 1 if name == "tdpo1" else 2
        loss = losses.tdpo_loss(u, seq_kl[:b], seq_kl[b:], beta, objective.alpha, variant).mean()
        extra = {"kl_chosen": float(seq_kl[:b].detach().mean()), "kl_rejected": float(seq_kl[b:].detach().mean())}
    else:
        raise ValueError(f"Cannot train: unknown objective {name!r}")
    with torch.no_grad():
        seq_logps = logps.sum(dim=-1)  # [2B]
        metrics = {
            "reward_margin": float((beta * u).mean()),
            "reward_accuracy": float((u > 0).float().mean()),
            "logp_chosen": float(seq_logps[:b].mean()),
            "logp_rejected": float(seq_logps[b:].mean()),
            **extra,
        }
    return loss, metrics


def _make_step_loss(cfg: TrainConfig, pairs: list[PairExample], pad: int, ref_cached, policy: loop.Policy):
    """Returns step_loss(step) for the policy. ref_cached: (chosen, rejected) per-pair tensors, or None for TDPO."""
    tdpo = cfg.objective.name in ("tdpo1", "tdpo2")
    ref_model = None
    if tdpo and not policy.is_lora:
        # Full fine-tuning changes every weight, so the reference is a separate frozen copy of the start model.
        ref_model = load_model(cfg.model_dir, loop.torch_dtype(cfg), cfg.device).eval()
        for p in ref_model.parameters():
            p.requires_grad_(False)

    def reference_logits(batch) -> torch.Tensor:
        with torch.no_grad():
            if ref_model is not None:
                return response_logits(ref_model, batch)
            # LoRA: the start model is the base with the adapter switched off.
            model = world().unwrap(policy.model)
            with model.disable_adapter():
                return response_logits(model, batch)

    order = batch_order(
        cfg.batching, [len(p.prompt_ids) + max(len(p.chosen_ids), len(p.rejected_ids)) for p in pairs], cfg.batch_size, cfg.seed
    )

    def step_loss(step: int):
        indices = order(step)
        batch = pair_batch([pairs[i] for i in indices], pad).to(cfg.device)
        # Under several ranks each runs its share of the pairs and the rows are gathered back
        # (with their gradients) into the whole batch; in one process both calls are the identity.
        b = len(indices)
        mine = world().take_rows(batch, 2, b)
        logits = response_logits(policy.model, mine)  # [2B, T, V], the step's only grad-carrying forward
        logps = world().gather_rows(token_logps(logits, mine.resp_targets, mine.resp_mask), 2, b)  # [2B, T]
        seq_kl = None
        if tdpo:
            ref_logits = reference_logits(mine)  # [2B, T, V]
            ref_logprobs = torch.log_softmax(ref_logits, dim=-1)
            policy_logprobs = torch.log_softmax(logits, dim=-1)
            seq_kl = (losses.token_kl(ref_logprobs, policy_logprobs) * mine.resp_mask).sum(dim=-1)  # [2B]
            seq_kl = world().gather_rows(seq_kl, 2, b)
            ref = world().gather_rows(token_logps(ref_logits, mine.resp_targets, mine.resp_mask), 2, b)
        else:
            chosen, rejected = ref_cached
            ref = reference_cache.batch_reference(chosen, rejected, indices, batch.resp_mask.size(1)).to(cfg.device)
        return objective_loss(cfg, logps, ref, batch.resp_mask, batch.resp_weights, seq_kl)

    return step_loss


def _prepare(cfg: TrainConfig, cache_dir: Path):
    """Reads and checks the pairs, and loads (or computes) the cached reference log-probs."""
    vocab = read_config(cfg.model_dir).get("vocab_size")
    pairs = read_pairs(cfg.data_path, eos_token_id(cfg.model_dir), vocab)
    pad = pad_token_id(cfg.model_dir)
    hashes = {"data_hash": file_hash(cfg.data_path), "model_hash": model_hash(cfg.model_dir)}
    ref_cached = None
    if cfg.objective.name not in ("tdpo1", "tdpo2"):
        path = reference_cache.cache_path(cache_dir, hashes["model_hash"], hashes["data_hash"], cfg.dtype)
        # Rank 0 computes and writes the cache; the other ranks then read it.
        chosen, rejected, _ = world().main_first(lambda: reference_cache.load_or_compute(
            cfg.model_dir, pairs, pad, cfg.batch_size, cfg.device, loop.torch_dtype(cfg), path
        ))
        ref_cached = (chosen, rejected)
    return pairs, pad, hashes, ref_cached


def train_preference(cfg: TrainConfig, emit) -> dict[str, Any]:
    cache_dir = Path(cfg.ref_cache_dir) if cfg.ref_cache_dir else Path(cfg.out_dir) / "reference-cache"
    # Data checks and the reference pass run before the policy is built or any step is taken.
    pairs, pad, hashes, ref_cached = _prepare(cfg, cache_dir)
    evaluate = None
    if cfg.eval_pairs_path is not None:
        evaluate = heldout_evaluator(
            cfg.eval_pairs_path, eos_token_id(cfg.model_dir), read_config(cfg.model_dir).get("vocab_size"), pad,
            cfg.batch_size, cfg.device,
        )
    return loop.run(
        cfg,
        lambda policy: _make_step_loss(cfg, pairs, pad, ref_cached, policy),
        hashes,
        emit,
        evaluate,
    )


def bench_objective_step(cfg: TrainConfig, steps: int, warmup: int = 2) -> dict[str, Any]:
    """Median wall time of one training step (forward, objective, backward, AdamW) over `steps` steps.

    The reference pass and model loading are excluded: they are once per run, not per step.
    The median, not the mean, because the bench machine is shared and a few steps get preempted.
    """
    with tempfile.TemporaryDirectory(prefix="cdpo-bench-") as tmp:
        cache_dir = Path(cfg.ref_cache_dir) if cfg.ref_cache_dir else Path(tmp)
        pairs, pad, _, ref_cached = _prepare(cfg, cache_dir)
        loop.seed_everything(cfg.seed)
        policy = loop.build_policy(cfg, cfg.model_dir)
        optimizer = loop.make_optimizer(cfg, policy)
        step_loss = _make_step_loss(cfg, pairs, pad, ref_cached, policy)
        times = []
        for step in range(warmup + steps):
            t0 = time.perf_counter()
            loss, _ = step_loss(step)
            loop.optimizer_step(policy, optimizer, loss, cfg.lr, cfg.max_grad_norm)
            if step >= warmup:
                times.append(time.perf_counter() - t0)
    times.sort()
    median = times[len(times) // 2] if len(times) % 2 else 0.5 * (times[len(times) // 2 - 1] + times[len(times) // 2])
    return {"seconds_per_step": median, "steps": steps, "objective": cfg.objective.name}
