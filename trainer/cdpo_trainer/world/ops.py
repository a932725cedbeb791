"""Trainer ops of the embedded world: train its tokenizer and pretrain its policy.

Each op turns its request params into a typed call; the work lives in tokenizer.py and pretrain.py.
"""

from __future__ import annotations

from typing import Any

from cdpo_trainer.serve.params import get
from cdpo_trainer.world.policy import PRETRAIN_DEFAULTS
from cdpo_trainer.world.pretrain import PretrainConfig, pretrain
from cdpo_trainer.world.tokenizer import train_world_tokenizer


def train_tokenizer_op(params: dict[str, Any], emit) -> dict[str, Any]:
    """params: corpus_path, out_dir, model_max_length (default 512).

    result: tokenizer_path, vocab_size, examples, max_sequence_tokens.
    """
    return train_world_tokenizer(
        get(params, "corpus_path", str),
        get(params, "out_dir", str),
        model_max_length=get(params, "model_max_length", int, 512),
    )


def pretrain_op(params: dict[str, Any], emit) -> dict[str, Any]:
    """params: corpus_path, tokenizer_path (file or directory), out_dir, seed (0), steps, batch_size,
    lr, min_lr_ratio, warmup_steps, weight_decay, grad_clip, threads (defaults in policy.py),
    model (LlamaConfig overrides, {}), export_onnx (true), log_every (10).

    events: progress {done, total, loss, tokens_per_s, eta_s}; metric {step, loss, lr}.
    result: model_dir, onnx, steps, first_loss, final_loss, train_s, s_per_step, parameters,
    vocab_size, examples.
    """
    d = PRETRAIN_DEFAULTS
    cfg = PretrainConfig(
        corpus_path=get(params, "corpus_path", str),
        tokenizer_path=get(params, "tokenizer_path", str),
        out_dir=get(params, "out_dir", str),
        seed=get(params, "seed", int, 0),
        steps=get(params, "steps", int, d["steps"]),
        batch_size=get(params, "batch_size", int, d["batch_size"]),
        lr=get(params, "lr", float, d["lr"]),
        min_lr_ratio=get(params, "min_lr_ratio", float, d["min_lr_ratio"]),
        warmup_steps=get(params, "warmup_steps", int, d["warmup_steps"]),
        weight_decay=get(params, "weight_decay", float, d["weight_decay"]),
        grad_clip=get(params, "grad_clip", float, d["grad_clip"]),
        threads=get(params, "threads", int, d["threads"]),
        model=get(params, "model", dict, {}),
        export_onnx=get(params, "export_onnx", bool, True),
        log_every=get(params, "log_every", int, 10),
    )
    return pretrain(cfg, emit)


OPS: dict = {
    "train_tokenizer": train_tokenizer_op,
    "pretrain": pretrain_op,
}
