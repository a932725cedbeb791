"""Trainer ops of the embedded world: train its tokenizer, initialise its policy, encode its corpus.

Pretraining itself is the `sft` op on the encoded corpus from the initialised policy (train/), so
the world's policy is trained by the same loop, schedule and checkpointing as every objective.

    train_tokenizer {corpus_path, out_dir, model_max_length} -> {tokenizer_path, vocab_size, examples, max_sequence_tokens}
    init_policy     {tokenizer_path, out_dir, seed, model: {every field of policy.MODEL_FIELDS}} -> {model_dir, vocab_size, parameters}
    encode_corpus   {corpus_path, tokenizer_path, out_path} -> {examples_path, examples, max_sequence_tokens}
"""

from __future__ import annotations

from typing import Any

from cdpo_trainer.serve.params import get
from cdpo_trainer.world.policy import encode_corpus, init_policy, model_fields
from cdpo_trainer.world.tokenizer import train_world_tokenizer


def train_tokenizer_op(params: dict[str, Any], emit) -> dict[str, Any]:
    return train_world_tokenizer(
        get(params, "corpus_path", str),
        get(params, "out_dir", str),
        model_max_length=get(params, "model_max_length", int),
    )


def init_policy_op(params: dict[str, Any], emit) -> dict[str, Any]:
    return init_policy(
        get(params, "tokenizer_path", str),
        get(params, "out_dir", str),
        get(params, "seed", int),
        model_fields(get(params, "model", dict)),
    )


def encode_corpus_op(params: dict[str, Any], emit) -> dict[str, Any]:
    return encode_corpus(get(params, "corpus_path", str), get(params, "tokenizer_path", str), get(params, "out_path", str))


OPS: dict = {"train_tokenizer": train_tokenizer_op, "init_policy": init_policy_op, "encode_corpus": encode_corpus_op}
