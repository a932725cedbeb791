"""The training loop shared by SFT and the preference objectives: policy, optimizer, schedule,
steps, metrics, checkpoints, resume and the final model.

Reads top to bottom: build the policy (full fine-tuning or LoRA), restore the last checkpoint if
one matches, then for each step: lr from the schedule, loss from the objective's `step_loss`,
backward, clip, AdamW, metrics, maybe a checkpoint; finally save `<out_dir>/model/`.
"""

from __future__ import annotations

import json
import math
import os
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

import torch

from cdpo_trainer.train import checkpoint
from cdpo_trainer.atomic import replace_dir
from cdpo_trainer.models.model_dir import load_model, maybe_export_onnx, write_hf_dir
from cdpo_trainer.train.config import PATH_FIELDS, TrainConfig
from cdpo_trainer.train.distributed import world

# step_loss(step) -> (loss to minimise, extra metric values for this step)
StepLoss = Callable[[int], tuple[torch.Tensor, dict[str, float]]]


def torch_dtype(cfg: TrainConfig) -> torch.dtype:
    return {"float32": torch.float32, "bfloat16": torch.bfloat16}[cfg.dtype]


def seed_everything(seed: int) -> None:
    """Seeds torch's global generators (LoRA's adapter init, dropout).

    CPU kernels used here are deterministic for a fixed thread count, so the same seed gives the
    same bytes (tested). torch.use_deterministic_algorithms is not switched on: it is process-wide
    and would change the kernels of the other ops this long-lived process serves.
    """
    torch.manual_seed(seed)


@dataclass
class Policy:
    model: Any
    is_lora: bool
    trainable: list[tuple[str, torch.nn.Parameter]]  # in a fixed order: the optimizer's param indices


def build_policy(cfg: TrainConfig, weights_dir: str | Path) -> Policy:
    """Loads the weights and, for LoRA, wraps them with a freshly initialised adapter (seeded)."""
    model = load_model(weights_dir, torch_dtype(cfg), cfg.device)
    if cfg.lora is not None:
        from peft import LoraConfig, get_peft_model

        lora = LoraConfig(
            r=cfg.lora.r,
            lora_alpha=cfg.lora.alpha,
            lora_dropout=cfg.lora.dropout,
            target_modules=cfg.lora.target_modules,
            task_type="CAUSAL_LM",
        )
        model = get_peft_model(model, lora)
    model.train()
    trainable = [(n, p) for n, p in model.named_parameters() if p.requires_grad]
    return Policy(model, cfg.lora is not None, trainable)


def lr_at(cfg: TrainConfig, step: int) -> float:
    """Learning rate of step `step` (0-based): linear warmup to cfg.lr, then constant, or cosine from
    cfg.lr down to cfg.lr * cfg.min_lr_ratio at the last step."""
    if cfg.warmup_steps > 0 and step < cfg.warmup_steps:
        return cfg.lr * (step + 1) / cfg.warmup_steps
    if cfg.schedule == "constant":
        return cfg.lr
    span = max(1, cfg.steps - 1 - cfg.warmup_steps)
    progress = min(1.0, (step - cfg.warmup_steps) / span)
    floor = cfg.lr * cfg.min_lr_ratio
    return floor + (cfg.lr - floor) * 0.5 * (1.0 + math.cos(math.pi * progress))


def make_optimizer(cfg: TrainConfig, policy: Policy) -> torch.optim.Optimizer:
    """AdamW; weight decay applies to weight matrices only, never to norm gains or biases.

    foreach=False: the single-tensor path is the same code on every run, which keeps CPU bytes stable.
    """
    params = [p for _, p in policy.trainable]
    decay = [p for p in params if p.dim() >= 2]
    no_decay = [p for p in params if p.dim() < 2]
    groups = [{"params": decay, "weight_decay": cfg.weight_decay}]
    if no_decay:
        groups.append({"params": no_decay, "weight_decay": 0.0})
    return torch.optim.AdamW(groups, lr=cfg.lr, betas=cfg.adam_betas, foreach=False)


def optimizer_step(policy: Policy, optimizer, loss: torch.Tensor, lr: float, max_grad_norm: float) -> float:
    """backward, clip, AdamW update; returns the gradient norm before clipping.

    Under several ranks, backward and clipping go through the launcher's wrapper (distributed.py),
    which averages the gradients over the ranks first.
    """
    for group in optimizer.param_groups:
        group["lr"] = lr
    optimizer.zero_grad(set_to_none=True)
    world().backward(loss)
    params = [p for _, p in policy.trainable]
    if max_grad_norm > 0:
        grad_norm = world().clip_grad_norm(params, max_grad_norm)
    else:
        grad_norm = torch.linalg.vector_norm(
            torch.stack([torch.linalg.vector_norm(p.grad) for p in params if p.grad is not None])
        )
    optimizer.step()
    return float(grad_norm)


def _trim_metrics(path: Path, last_step: int) -> None:
    """Keeps the metric lines of steps <= last_step: the steps after a checkpoint are redone on resume."""
    if not path.exists():
        return
    kept = [line for line in path.read_text(encoding="utf-8").splitlines() if line and json.loads(line)["step"] <= last_step]
    path.write_text("".join(line + "\n" for line in kept), encoding="utf-8")


def run(
    cfg: TrainConfig,
    make_step_loss: Callable[[Policy], StepLoss],
    hashes: dict[str, str],
    emit,
    evaluate: Callable[[Any], dict[str, float]] | None = None,
) -> dict[str, Any]:
    """Trains to the end (resuming if a matching checkpoint exists) and saves the final model.

    make_step_loss is called once with the policy and returns the per-step loss function.
    evaluate(model), when given, measures held-out metrics before the first step and every
    cfg.eval_every steps (and after the last); they join that step's metric line.
    hashes: {"data_hash", "model_hash"} recorded in checkpoints and checked on resume.
    """
    # Under several ranks every rank trains; only rank 0 writes metrics, checkpoints and the model.
    main = world().is_main
    out = Path(cfg.out_dir)
    out.mkdir(parents=True, exist_ok=True)
    if main:
        checkpoint.remove_temp_dirs(out)
    meta = {"config": cfg.identity(), **hashes}
    resume_from = checkpoint.latest(out) if cfg.resume else None
    if resume_from is not None:
        recorded = {**resume_from.meta, "config": {k: v for k, v in (resume_from.meta.get("config") or {}).items() if k not in PATH_FIELDS}}
        for key in ("config", "data_hash", "model_hash"):
            if recorded.get(key) != meta[key]:
                raise ValueError(
                    f"Cannot resume from {resume_from.path}: its {key} differs from this request's; "
                    "use a new out_dir, or pass resume: false to start over"
                )

    seed_everything(cfg.seed)
    # Full fine-tuning resumes from the checkpoint's weights; LoRA rebuilds base + adapter, then
    # overwrites the adapter (its fresh init still consumes the same RNG draws, then RNG is restored).
    weights_dir = resume_from.path if (resume_from is not None and cfg.lora is None) else cfg.model_dir
    policy = build_policy(cfg, weights_dir)
    optimizer = make_optimizer(cfg, policy)
    start = 0
    metrics_path = out / "metrics.jsonl"
    if resume_from is not None:
        checkpoint.restore(resume_from, policy.model, policy.is_lora, policy.trainable, optimizer)
        start = resume_from.step
        if main:
            _trim_metrics(metrics_path, start)
    elif main:
        metrics_path.write_text("", encoding="utf-8")
    policy.model, optimizer = world().prepare(policy.model, optimizer)
    step_loss = make_step_loss(policy)
    total = cfg.steps
    checkpoints = []
    last: dict[str, Any] = {}

    due = lambda s: evaluate is not None and cfg.eval_every > 0 and (s % cfg.eval_every == 0 or s == total)  # noqa: E731
    with (metrics_path if main else Path(os.devnull)).open("a", encoding="utf-8") as metrics_file:
        if start == 0 and due(0):
            values = {"step": 0, **evaluate(policy.model)}
            metrics_file.write(json.dumps(values) + "\n")
            emit("metric", **values)
        for step in range(start, total):
            lr = lr_at(cfg, step)
            loss, extra = step_loss(step)
            if not torch.isfinite(loss):
                raise RuntimeError(f"Cannot train: the loss of step {step + 1} is {loss.item()} (lr {lr}); lower the lr")
            grad_norm = optimizer_step(policy, optimizer, loss, lr, cfg.max_grad_norm)
            values = {"step": step + 1, "loss": float(loss.detach()), **extra, "grad_norm": grad_norm, "lr": lr}
            if due(step + 1):
                values.update(evaluate(policy.model))
            last = values
            metrics_file.write(json.dumps(values) + "\n")
            metrics_file.flush()
            emit("metric", **values)
            emit("progress", done=step + 1, total=total)
            if main and cfg.checkpoint_every and (step + 1) % cfg.checkpoint_every == 0:
                path = checkpoint.save(
                    out, step + 1, world().unwrap(policy.model), policy.is_lora, policy.trainable, optimizer, meta,
                )
                checkpoints.append(str(path))
                emit("checkpoint", path=str(path), step=step + 1)

    final = out / "model"
    if not main:
        return {"model_dir": str(final), "steps": total, "resumed_from_step": start, "final_metrics": last}
    final_tmp = out / ".tmp-model"
    if final_tmp.exists():
        shutil.rmtree(final_tmp)
    write_hf_dir(world().unwrap(policy.model), policy.is_lora, cfg.model_dir, final_tmp)
    onnx_path = onnx_error = None
    if cfg.export_onnx:
        onnx_path, onnx_error = maybe_export_onnx(final_tmp)
    replace_dir(final_tmp, final)
    if onnx_path is not None:
        onnx_path = str(final / Path(onnx_path).name)
    return {
        "model_dir": str(final),
        "steps": total,
        "resumed_from_step": start,
        "final_metrics": last,  # the last step run by this call ({} when resuming a finished run)
        "metrics_path": str(metrics_path),
        "checkpoints": checkpoints,
        "onnx_path": onnx_path,
        "onnx_error": onnx_error,
    }
