"""The world policy: a tiny Llama whose shape the run config gives, freshly initialised.

The policy is a stock `transformers` LlamaForCausalLM so the embedded default takes the same
code path as a real 8B checkpoint; only its size differs. Pretraining is not here: it is the
`sft` op (train/) on the encoded corpus, starting from the directory `init_policy` writes, so it
shares the training loop, schedule and checkpointing of every other objective.

How the default shape and recipe were chosen (src/run/config.ts holds the values; measured on a
shared 2-core VM, torch 2.13 CPU, a 20 000-line corpus, mean sequence 72 tokens):
- Cost is dense compute, not overhead: time per step grows linearly with batch size, and
  `aten::mm` is half the profile. So the levers are fewer FLOPs per sequence and less padding
  (hence length-bucketed batches: random batches of 64 padded the mean length to 1.4 times itself).
- MLP width: at equal compute, intermediate 256 (0.68M weights) reached a lower response loss
  than 512 (1.07M): at step 200 (bs 64) 0.62 vs 0.73, and a 256 model runs 1.6 times the steps.
- Batch: 800 x 64 at lr 5e-3 reached loss 0.216; 1600 x 32 at lr 6e-3 (same sequences, more
  steps) only 0.257, so the corpus noise favours larger batches.
- Attention: "sdpa" and "eager" measured within noise of each other; sdpa stays.
- Untied embeddings: the output layer is about 100 x 128 weights, too small to be worth sharing,
  and untied weights export to ONNX without a shared tensor.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from cdpo_trainer.atomic import replace_dir, write_text_atomic
from cdpo_trainer.serve.params import get
from cdpo_trainer.world.tokenizer import BOS_ID, EOS_ID, PAD_ID, write_tokenizer_files, load_world_tokenizer

# The Llama fields the run config gives (world.model), with their types.
MODEL_FIELDS: dict[str, type | tuple[type, ...]] = {
    "hidden_size": int,
    "intermediate_size": int,
    "num_hidden_layers": int,
    "num_attention_heads": int,
    "num_key_value_heads": int,
    "max_position_embeddings": int,
    "rms_norm_eps": float,
    "rope_theta": float,
    "initializer_range": float,
    "tie_word_embeddings": bool,
}


def model_fields(raw: dict[str, Any]) -> dict[str, Any]:
    """The `model` object of a request, every field present and typed; unknown fields are refused."""
    unknown = sorted(set(raw) - set(MODEL_FIELDS))
    if unknown:
        raise ValueError(f"Cannot build the policy config: unknown model field(s) {', '.join(unknown)} (known: {', '.join(MODEL_FIELDS)})")
    fields = {name: get(raw, name, kind) for name, kind in MODEL_FIELDS.items()}
    for name in ("hidden_size", "intermediate_size", "num_hidden_layers", "num_attention_heads", "num_key_value_heads", "max_position_embeddings"):
        if fields[name] < 1:
            raise ValueError(f"Cannot build the policy config: {name} is {fields[name]}, expected an integer >= 1")
    if fields["hidden_size"] % fields["num_attention_heads"] != 0:
        raise ValueError(
            f"Cannot build the policy config: hidden_size {fields['hidden_size']} is not a multiple of "
            f"num_attention_heads {fields['num_attention_heads']}"
        )
    if fields["num_attention_heads"] % fields["num_key_value_heads"] != 0:
        raise ValueError(
            f"Cannot build the policy config: num_attention_heads {fields['num_attention_heads']} is not a multiple of "
            f"num_key_value_heads {fields['num_key_value_heads']}"
        )
    return fields


def policy_config(vocab_size: int, fields: dict[str, Any]):
    """A LlamaConfig for the world policy over a `vocab_size`-token vocabulary."""
    from transformers import LlamaConfig

    fields = dict(fields)
    rope_theta = fields.pop("rope_theta")
    config = LlamaConfig(
        vocab_size=vocab_size,
        hidden_act="silu",
        attention_bias=False,
        mlp_bias=False,
        bos_token_id=BOS_ID,
        eos_token_id=EOS_ID,
        pad_token_id=PAD_ID,
        use_cache=True,
        rope_parameters={"rope_type": "default", "rope_theta": rope_theta},
        **fields,
    )
    config._attn_implementation = "sdpa"
    return config


def parameter_count(vocab_size: int, fields: dict[str, Any]) -> int:
    """Number of weights of the policy, computed from its shape (no model is built)."""
    h, i, n = fields["hidden_size"], fields["intermediate_size"], fields["num_hidden_layers"]
    kv = h // fields["num_attention_heads"] * fields["num_key_value_heads"]
    per_layer = h * h * 2 + h * kv * 2 + 3 * h * i + 2 * h  # q, o; k, v; gate, up, down; 2 norms
    heads = 1 if fields["tie_word_embeddings"] else 2
    return vocab_size * h * heads + n * per_layer + h  # + final norm


def init_policy(tokenizer_path: str | Path, out_dir: str | Path, seed: int, fields: dict[str, Any]) -> dict[str, Any]:
    """Writes a freshly initialised policy (weights fixed by `seed`) with the world tokenizer, atomically."""
    import torch
    from transformers import GenerationConfig, LlamaForCausalLM

    tokenizer = load_world_tokenizer(tokenizer_path)
    vocab_size = tokenizer.get_vocab_size()
    config = policy_config(vocab_size, fields)
    torch.manual_seed(seed)
    model = LlamaForCausalLM(config)
    model.generation_config = GenerationConfig(bos_token_id=BOS_ID, eos_token_id=EOS_ID, pad_token_id=PAD_ID, do_sample=False)
    out = Path(out_dir)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(f".{out.name}.tmp")
    if tmp.exists():
        import shutil

        shutil.rmtree(tmp)
    model.save_pretrained(tmp, safe_serialization=True)
    write_tokenizer_files(tokenizer, tmp, fields["max_position_embeddings"])
    replace_dir(tmp, out)
    return {"model_dir": str(out), "vocab_size": vocab_size, "parameters": parameter_count(vocab_size, fields)}


def encode_corpus(corpus_path: str | Path, tokenizer_path: str | Path, out_path: str | Path) -> dict[str, Any]:
    """Writes the corpus as training examples: prompt_ids = [bos] + prompt, response_ids = response.

    The `sft` op appends [eos] to every response and puts the loss on the response and the eos
    only: the policy learns to solve, not to pose, problems.
    """
    from cdpo_trainer.world.corpus import read_corpus

    tokenizer = load_world_tokenizer(tokenizer_path)
    examples = read_corpus(corpus_path)
    prompts = tokenizer.encode_batch([ex.prompt for ex in examples])
    responses = tokenizer.encode_batch([ex.response for ex in examples])
    lines = [
        json.dumps({"prompt_ids": [BOS_ID] + p.ids, "response_ids": r.ids}, separators=(",", ":"))
        for p, r in zip(prompts, responses)
    ]
    write_text_atomic(out_path, "".join(line + "\n" for line in lines))
    longest = max(1 + len(p.ids) + len(r.ids) + 1 for p, r in zip(prompts, responses))
    return {"examples_path": str(out_path), "examples": len(lines), "max_sequence_tokens": longest}
