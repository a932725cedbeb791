"""Shared helpers for the training tests: a tiny random Llama on disk and small data files."""

from __future__ import annotations

import json
import random
from pathlib import Path

import torch

VOCAB = 48
BOS, EOS, PAD = 1, 2, 0


def tiny_llama(path: Path, seed: int = 0) -> Path:
    """A 2-layer, hidden-64 Llama with random weights, saved as an HF directory (no tokenizer: ids only)."""
    from transformers import LlamaConfig, LlamaForCausalLM

    config = LlamaConfig(
        vocab_size=VOCAB,
        hidden_size=64,
        intermediate_size=128,
        num_hidden_layers=2,
        num_attention_heads=4,
        num_key_value_heads=2,
        max_position_embeddings=128,
        bos_token_id=BOS,
        eos_token_id=EOS,
        pad_token_id=PAD,
        tie_word_embeddings=False,
    )
    torch.manual_seed(seed)
    model = LlamaForCausalLM(config)
    model.save_pretrained(str(path))
    return path


def _ids(rng: random.Random, lo: int, hi: int) -> list[int]:
    return [rng.randrange(3, VOCAB) for _ in range(rng.randint(lo, hi))]


def write_pairs(path: Path, n: int = 6, seed: int = 0, weights: bool = True) -> Path:
    rng = random.Random(seed)
    with path.open("w") as f:
        for _ in range(n):
            rejected = _ids(rng, 2, 7)
            rec = {"prompt_ids": [BOS] + _ids(rng, 1, 4), "chosen_ids": _ids(rng, 2, 7), "rejected_ids": rejected}
            if weights:
                rec["rejected_weights"] = [round(rng.random(), 3) for _ in rejected]
            f.write(json.dumps(rec) + "\n")
    return path


def write_sft(path: Path, n: int = 6, seed: int = 0) -> Path:
    rng = random.Random(seed)
    with path.open("w") as f:
        for _ in range(n):
            f.write(json.dumps({"prompt_ids": [BOS] + _ids(rng, 1, 4), "response_ids": _ids(rng, 2, 7)}) + "\n")
    return path


# The objectives with the values the tests use (every field each loss takes).
OBJECTIVES = {
    "dpo": {"name": "dpo", "beta": 0.1},
    "rpo": {"name": "rpo", "beta": 0.1, "alpha": 1.0},
    "cdpo": {"name": "cdpo", "gamma": 1.0, "form": "sequence"},
    "tdpo1": {"name": "tdpo1", "beta": 0.1, "alpha": 0.5},
    "tdpo2": {"name": "tdpo2", "beta": 0.1, "alpha": 0.5},
}


def train_params(kind: str, model, data, out, **overrides) -> dict:
    """A complete `sft` or `preference` request (every field is required), with small test settings."""
    p = {
        "model_dir": str(model),
        "data_path" if kind == "sft" else "pairs_path": str(data),
        "out_dir": str(out),
        "lr": 1e-2,
        "batch_size": 4,
        "steps": 3,
        "seed": 0,
        "schedule": "constant",
        "warmup_steps": 0,
        "min_lr_ratio": 0.0,
        "max_grad_norm": 1.0,
        "weight_decay": 0.0,
        "adam_betas": [0.9, 0.999],
        "batching": "random",
        "lora": None,
        "dtype": "float32",
        "eval_pairs_path": None,
        "eval_every": 0,
        "checkpoint_every": 0,
        "export_onnx": False,
        "resume": True,
        "ref_cache_dir": None,
        "device": "cpu",
    }
    if kind == "preference":
        p["objective"] = dict(OBJECTIVES["cdpo"])
    p.update(overrides)
    return p


def lora(r: int = 4, alpha: float | None = None, dropout: float = 0.1) -> dict:
    """LoRA settings as the kit sends them."""
    return {"r": r, "alpha": float(2 * r if alpha is None else alpha), "dropout": dropout, "target_modules": "all-linear"}


def preference_config(objective: dict):
    """A TrainConfig of a preference run with `objective` (for tests that call the loss directly)."""
    from cdpo_trainer.train.config import from_params

    return from_params(train_params("preference", "", "", "", objective=objective), "preference")
