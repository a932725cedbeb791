"""Trainer ops for training: `sft`, `preference` and `bench_objective_step`.

Each op checks its params (config.from_params: every field required) and its data file before any
step; bad input raises ValueError, which the server turns into a `bad_input` error for the client.

    sft         {model_dir, data_path, out_dir, lr, batch_size, steps, seed, schedule, warmup_steps,
                 min_lr_ratio, max_grad_norm, weight_decay, adam_betas, batching, lora, dtype,
                 checkpoint_every, export_onnx, resume, ref_cache_dir, device}
    preference  the same with pairs_path instead of data_path, plus objective
                 ({name: dpo|rpo|tdpo1|tdpo2|cdpo, and that loss's own fields}; see config.py)
        -> {model_dir, steps, resumed_from_step, final_metrics, metrics_path, checkpoints,
            onnx_path, onnx_error}
        events: metric {step, loss, ..., grad_norm, lr} and progress per step, checkpoint {path, step}
    bench_objective_step  a preference request's params plus warmup (untimed first steps)
        -> {seconds_per_step, steps, objective}
"""

from __future__ import annotations

from typing import Any

from cdpo_trainer.serve.params import get


def sft(params: dict[str, Any], emit) -> dict[str, Any]:
    from cdpo_trainer.train.sft import train_sft
    from cdpo_trainer.train.config import from_params
    from cdpo_trainer.train.distributed import world

    # Under several ranks each trains on its own device (localize is the identity in one process).
    return train_sft(world().localize(from_params(params, "sft")), emit)


def preference(params: dict[str, Any], emit) -> dict[str, Any]:
    from cdpo_trainer.train.preference import train_preference
    from cdpo_trainer.train.config import from_params
    from cdpo_trainer.train.distributed import world

    return train_preference(world().localize(from_params(params, "preference")), emit)


def bench_objective_step(params: dict[str, Any], emit) -> dict[str, Any]:
    from cdpo_trainer.train.preference import bench_objective_step as bench
    from cdpo_trainer.train.config import from_params

    # A preference request's params plus `warmup` (untimed steps first); nothing is written.
    warmup = get(params, "warmup", int)
    if warmup < 0:
        raise ValueError(f"parameter 'warmup' is {warmup}, expected an integer >= 0")
    cfg = from_params({k: v for k, v in params.items() if k != "warmup"}, "preference")
    return bench(cfg, cfg.steps, warmup=warmup)


OPS: dict = {"sft": sft, "preference": preference, "bench_objective_step": bench_objective_step}

# Ops every rank runs together when the trainer is launched with several (serve/ranks.py); the
# others run on rank 0 alone.
ALL_RANKS = {"sft", "preference"}
