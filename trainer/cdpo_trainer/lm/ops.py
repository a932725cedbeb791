"""The `torch` backend's ops: the kit's LanguageModel served by transformers (torch_lm.py).

The TypeScript client (src/lm/torch_model.ts) drives these ops; the in-process ONNX backend
(src/lm/ort_model.ts) implements the same semantics, so the two agree token for token:
  * per-token log-probs are log_softmax of the float32 logits (temperature 1, no top-p);
  * sampling draws one uniform number per step from `KitRandom.derive(seed, prompt_index,
    sample_index)` (a port of src/random.ts) and picks a token with `select_token`, the same
    rule as src/lm/sampling.ts. Batch composition therefore never changes a sample.

Ops (params -> result):
  lm_load         {model_dir, device: auto|cpu|cuda, dtype: auto|float32|bfloat16} -> {handle, ...model facts}
  lm_unload       {handle} -> {}
  lm_score        {handle, items: [{prompt, continuation}]} -> {logprobs: [[float]]}
  lm_distributions{handle, items: [{tokens, positions}]} -> {vocab_size, rows: [base64 float32 [len(positions), vocab]]}
  lm_sample       {handle, prompts: [{tokens, forced_prefix?, mask_first?}], n, temperature, top_p,
                   max_new_tokens, seed, stop_token_ids, stop_strings, ignore_eos} -> {samples: [...]}
  lm_generate     same inputs, through `model.generate()` (reference and benchmark; its own RNG)
  lm_contrastive  {pos, neg (handles), items: [{prompt, continuation}], betas} -> {scores: [{s: [per beta], lp_pos, lp_neg}]}
                  s_t on the device (contrastive.py): no [T, vocab] matrix leaves the trainer
"""

from __future__ import annotations

import base64
from typing import Any

from cdpo_trainer.lm.torch_lm import TorchLM
from cdpo_trainer.serve.params import get
from cdpo_trainer.train.distributed import world

_MODELS: dict[int, TorchLM] = {}
_next_handle = [1]


def _model(params: dict[str, Any]) -> TorchLM:
    handle = get(params, "handle", int)
    if handle not in _MODELS:
        raise ValueError(f"unknown model handle {handle} (loaded: {sorted(_MODELS)}); call lm_load first")
    return _MODELS[handle]


def lm_load(params: dict[str, Any], emit) -> dict[str, Any]:
    # Under several ranks every rank loads the model on its own device (distributed.py).
    device = world().device or get(params, "device", str)
    lm = TorchLM(get(params, "model_dir", str), device, get(params, "dtype", str))
    handle = _next_handle[0]
    _next_handle[0] += 1
    _MODELS[handle] = lm
    return {"handle": handle, **lm.facts()}


def lm_unload(params: dict[str, Any], emit) -> dict[str, Any]:
    _MODELS.pop(get(params, "handle", int), None)
    return {}


def lm_score(params: dict[str, Any], emit) -> dict[str, Any]:
    # Several ranks: each scores a contiguous share of the items, gathered in order on rank 0.
    return {"logprobs": world().map_split(get(params, "items", list), _model(params).score)}


def lm_distributions(params: dict[str, Any], emit) -> dict[str, Any]:
    lm = _model(params)
    rows = world().map_split(get(params, "items", list), lm.distributions)
    # Base64 of little-endian float32: a [T, vocab] matrix as JSON numbers would be ~5x larger.
    return {"vocab_size": lm.vocab_size,
            "rows": [base64.b64encode(r.astype("<f4").tobytes()).decode("ascii") for r in rows]}


def lm_contrastive(params: dict[str, Any], emit) -> dict[str, Any]:
    from cdpo_trainer.lm.contrastive import contrastive_scores

    pos, neg = _model({"handle": get(params, "pos", int)}), _model({"handle": get(params, "neg", int)})
    betas = get(params, "betas", list)
    if any(not isinstance(b, (int, float)) or isinstance(b, bool) for b in betas):
        raise ValueError("parameter 'betas' must be a list of numbers")
    return {"scores": world().map_split(get(params, "items", list), lambda share: contrastive_scores(pos, neg, share, betas))}


def _sample_args(params: dict[str, Any]) -> dict[str, Any]:
    return {
        "n": get(params, "n", int),
        "temperature": get(params, "temperature", float),
        "top_p": get(params, "top_p", float),
        "max_new_tokens": get(params, "max_new_tokens", int),
        "seed": get(params, "seed", int),
        "ignore_eos": get(params, "ignore_eos", bool),
    }


def lm_sample(params: dict[str, Any], emit) -> dict[str, Any]:
    lm = _model(params)
    prompts = get(params, "prompts", list)
    for i, p in enumerate(prompts):
        if not isinstance(p, dict):
            raise ValueError(f"prompt {i}: expected an object with 'tokens'")
    stop_strings = get(params, "stop_strings", list)
    if any(not isinstance(s, str) or not s for s in stop_strings):
        raise ValueError("stop_strings: every entry must be a non-empty string")
    # Each row's stream is labelled by its prompt's index, so a share of the prompts on another
    # rank draws exactly what it would draw here.
    labelled = [{**p, "index": p.get("index", i)} for i, p in enumerate(prompts)]
    samples = world().map_split(labelled, lambda share: lm.sample(
        share, stop_token_ids=get(params, "stop_token_ids", list), stop_strings=stop_strings,
        progress=lambda d, t: emit("progress", done=d, total=t), **_sample_args(params)))
    return {"samples": samples}


def lm_generate(params: dict[str, Any], emit) -> dict[str, Any]:
    lm = _model(params)
    return {"tokens": lm.generate(get(params, "prompts", list), **_sample_args(params))}


# Ops every rank runs together when the trainer is launched with several (serve/ranks.py).
ALL_RANKS = {"lm_load", "lm_unload", "lm_score", "lm_distributions", "lm_sample", "lm_contrastive"}

OPS = {
    "lm_load": lm_load,
    "lm_unload": lm_unload,
    "lm_score": lm_score,
    "lm_distributions": lm_distributions,
    "lm_sample": lm_sample,
    "lm_generate": lm_generate,
    "lm_contrastive": lm_contrastive,
}
