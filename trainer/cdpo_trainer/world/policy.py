"""The world policy: a tiny Llama's shape and the default hyper-parameters that pretrain it.

The policy is a stock `transformers` LlamaForCausalLM so the embedded default takes the same
code path as a real 8B checkpoint; only its size differs.

How the defaults were chosen (measured on a shared 2-core AVX-512 VM, torch 2.13 CPU with MKL,
on a 20 000-line corpus from src/tasks/world, mean sequence 72 tokens; other jobs were running,
so the fastest steps of a window stand for an unshared machine):
- Cost is dense compute, not overhead: time per step grows linearly with batch size, and
  `aten::mm` is half the profile. So the levers are fewer FLOPs per sequence and less padding.
- Padding: batches are length-bucketed (pretrain.BatchOrder); random batches of 64 padded the
  mean length to 1.4 times itself.
- MLP width: at equal compute, intermediate 256 (0.68M weights) reached a lower response loss
  than 512 (1.07M): at step 200 (bs 64) 0.62 vs 0.73, and a 256 model runs 1.6 times the steps.
- Batch: 800 x 64 at lr 5e-3 reached loss 0.216 and 32.4% greedy accuracy; 1600 x 32 at lr 6e-3
  (same sequences, more steps) only 0.257 and 21.2%, so the corpus noise favours larger batches.
- Attention: "sdpa" and "eager" measured within noise of each other (151-167 vs 167 ms per
  step of 64, 2 threads); sdpa stays, as it needs no materialised mask for longer sequences.
- Result: 1000 x 64 at lr 5e-3 reached loss 0.166 and 48.8% greedy accuracy on 500 test problems
  (the greedy trigger verb alone caps it near 65%), inside the 40-70% the pipeline wants.
- Time: one step of 64 at intermediate 256 took 151-170 ms on 2 threads in quiet moments, so
  1000 steps should take 150-170 s alone; with other jobs on the machine the same run took 255 s
  (0.255 s per step). Fewer steps cost accuracy (800 x 64: 32.4%).
"""

from __future__ import annotations

from typing import Any

from transformers import LlamaConfig

from cdpo_trainer.world.tokenizer import BOS_ID, EOS_ID, PAD_ID

# Llama fields a caller may override through the pretrain op's `model` param.
MODEL_DEFAULTS: dict[str, Any] = {
    "hidden_size": 128,
    "intermediate_size": 256,
    "num_hidden_layers": 4,
    "num_attention_heads": 4,
    "num_key_value_heads": 4,
    # Corpus sequences are under 100 tokens; 256 leaves room for sampling past a long answer.
    "max_position_embeddings": 256,
    "rms_norm_eps": 1e-5,
    "rope_theta": 10000.0,
    "initializer_range": 0.02,
    # Untied: the output layer is about 100 x 128 weights, too small to be worth sharing, and untied
    # weights export to ONNX without a shared tensor.
    "tie_word_embeddings": False,
}

# "sdpa" and "eager" measured the same on CPU for these shapes (see the module docstring).
ATTN_IMPLEMENTATION = "sdpa"

# Pretraining defaults (the pretrain op's params fall back to these).
PRETRAIN_DEFAULTS: dict[str, Any] = {
    "steps": 1000,
    "batch_size": 64,
    "lr": 5e-3,
    "min_lr_ratio": 0.1,
    "warmup_steps": 30,
    "weight_decay": 0.01,
    "grad_clip": 1.0,
    "threads": 2,
}


def policy_config(vocab_size: int, overrides: dict[str, Any] | None = None) -> LlamaConfig:
    """A LlamaConfig for the world policy over a `vocab_size`-token vocabulary.

    Raises ValueError for an override that is not a known field, so a typo does not silently
    train the default shape.
    """
    overrides = dict(overrides or {})
    unknown = sorted(set(overrides) - set(MODEL_DEFAULTS))
    if unknown:
        known = ", ".join(sorted(MODEL_DEFAULTS))
        raise ValueError(f"Cannot build the policy config: unknown model field(s) {', '.join(unknown)} (known: {known})")
    fields = {**MODEL_DEFAULTS, **overrides}
    if fields["hidden_size"] % fields["num_attention_heads"] != 0:
        raise ValueError(
            f"Cannot build the policy config: hidden_size {fields['hidden_size']} is not a multiple of "
            f"num_attention_heads {fields['num_attention_heads']}"
        )
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
    config._attn_implementation = ATTN_IMPLEMENTATION
    return config


def parameter_count(vocab_size: int, overrides: dict[str, Any] | None = None) -> int:
    """Number of weights of the policy, computed from its shape (no model is built)."""
    f = {**MODEL_DEFAULTS, **(overrides or {})}
    h, i, n = f["hidden_size"], f["intermediate_size"], f["num_hidden_layers"]
    kv = h // f["num_attention_heads"] * f["num_key_value_heads"]
    per_layer = h * h * 2 + h * kv * 2 + 3 * h * i + 2 * h  # q, o; k, v; gate, up, down; 2 norms
    heads = 1 if f["tie_word_embeddings"] else 2
    return vocab_size * h * heads + n * per_layer + h  # + final norm
