"""The training loop shared by SFT and the preference objectives: policy, optimizer, schedule,
steps, metrics, checkpoints, resume and the final model.

Reads top to bottom: build the policy (full fine-tuning or LoRA), restore the last checkpoint if
one matches, then for each step: lr from the schedule, loss from the objective's `step_loss`,
backward, clip, AdamW, metrics, maybe a checkpoint; finally save `<out_dir>/model/`.
"""

from __future__ import annotations

import json
import math
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

import torch

from cdpo_trainer.train import checkpoint
from cdpo_trainer.atomic import replace_dir
from cdpo_trainer.models.model_dir import load_model, maybe_export_onnx, write_hf_dir
from cdpo_trainer.train.config import TrainConfig

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


def total_steps(cfg: TrainConfig, n_examples: int) -> int:
    return cfg.steps if cfg.steps is not None else cfg.epochs * math.ceil(n_examples / cfg.batch_size)


def lr_at(cfg: TrainConfig, step: int, total: int) -> float:
    """Learning rate of step `step` (0-based): linear warmup to cfg.lr, then constant or cosine to 0."""
    if cfg.warmup_steps > 0 and step < cfg.warmup_steps:
        return cfg.lr * (step + 1) / cfg.warmup_steps
    if cfg.schedule == "constant":
        return cfg.lr
    decay_steps = max(1, total - cfg.warmup_steps)
    progress = min(1.0, (step - cfg.warmup_steps) / decay_steps)
    return cfg.lr * 0.5 * (1.0 + math.cos(math.pi * progress))


def make_optimizer(cfg: TrainConfig, policy: Policy) -> torch.optim.Optimizer:
    # foreach=False: the single-tensor path is the same code on every run, which keeps CPU bytes stable.
    return torch.optim.AdamW(
        [p for _, p in policy.trainable], lr=cfg.lr, weight_decay=cfg.weight_decay, foreach=False
    )


def optimizer_step(policy: Policy, optimizer, loss: torch.Tensor, lr: float, max_grad_norm: float) -> float:
    """backward, clip, AdamW update; returns the gradient norm before clipping."""
    for group in optimizer.param_groups:
        group["lr"] = lr
    optimizer.zero_grad(set_to_none=True)
    loss.backward()
    params = [p for _, p in policy.trainable]
    if max_grad_norm > 0:
        grad_norm = torch.nn.utils.clip_grad_norm_(params, max_grad_norm)
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
    n_examples: int,
    make_step_loss: Callable[[Policy], StepLoss],
    hashes: dict[str, str],
    emit,
) -> dict[str, Any]:
    """Trains to the end (resuming if a matching checkpoint exists) and saves the final model.

    make_step_loss is called once with the policy and returns the per-step loss function.
    hashes: {"data_hash", "model_hash"} recorded in checkpoints and checked on resume.
    """
    out = Path(cfg.out_dir)
    out.mkdir(parents=True, exist_ok=True)
    checkpoint.remove_temp_dirs(out)
    meta = {"config": cfg.identity(), **hashes}
    resume_from = checkpoint.latest(out) if cfg.resume else None
    if resume_from is not None:
        for key in ("config", "data_hash", "model_hash"):
            if resume_from.meta.get(key) != meta[key]:
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
        _trim_metrics(metrics_path, start)
    else:
        metrics_path.write_text("", encoding="utf-8")
    step_loss = make_step_loss(policy)
    total = total_steps(cfg, n_examples)
    checkpoints = []
    last: dict[str, Any] = {}

    with metrics_path.open("a", encoding="utf-8") as metrics_file:
        for step in range(start, total):
            lr = lr_at(cfg, step, total)
            loss, extra = step_loss(step)
            if not torch.isfinite(loss):
                raise RuntimeError(f"Cannot train: the loss of step {step + 1} is {loss.item()} (lr {lr}); lower the lr")
            grad_norm = optimizer_step(policy, optimizer, loss, lr, cfg.max_grad_norm)
            values = {"step": step + 1, "loss": float(loss.detach()), **extra, "grad_norm": grad_norm, "lr": lr}
            last = values
            metrics_file.write(json.dumps(values) + "\n")
            metrics_file.flush()
            emit("metric", **values)
            emit("progress", done=step + 1, total=total)
            if cfg.checkpoint_every and (step + 1) % cfg.checkpoint_every == 0:
                path = checkpoint.save(out, step + 1, policy.model, policy.is_lora, policy.trainable, optimizer, meta)
                checkpoints.append(str(path))
                emit("checkpoint", path=str(path), step=step + 1)

    final_tmp = out / ".tmp-model"
    if final_tmp.exists():
        shutil.rmtree(final_tmp)
    write_hf_dir(policy.model, policy.is_lora, cfg.model_dir, final_tmp)
    onnx_path = onnx_error = None
    if cfg.export_onnx:
        onnx_path, onnx_error = maybe_export_onnx(final_tmp)
    final = out / "model"
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
