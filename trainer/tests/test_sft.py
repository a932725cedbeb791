"""The `sft` op: response-only loss, full and LoRA training, schedule, determinism."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest
import torch
from safetensors.torch import load_file

from _train_helpers import EOS, lora, tiny_llama, train_params, write_sft
from cdpo_trainer.train.ops import OPS


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    root = tmp_path_factory.mktemp("sft")
    return {"model": tiny_llama(root / "model"), "data": write_sft(root / "sft.jsonl", n=5)}


def params(world, out, **kw):
    return train_params("sft", world["model"], world["data"], out, **{"batch_size": 5, **kw})


def run(p, events=None):
    return OPS["sft"](p, lambda t, **f: events.append((t, f)) if events is not None else None)


def test_first_loss_is_the_response_only_nll_computed_row_by_row(world, tmp_path):
    from transformers import AutoModelForCausalLM

    # Independent computation: each example alone (no padding), full log-softmax, the response
    # tokens plus the appended EOS, each predicted from the logits one position to its left.
    # The batch holds all 5 examples (batch_size 5), so step 1's loss is the token mean over all.
    model = AutoModelForCausalLM.from_pretrained(str(world["model"])).eval()
    total, count = 0.0, 0
    for line in Path(world["data"]).read_text().splitlines():
        rec = json.loads(line)
        prompt, response = rec["prompt_ids"], rec["response_ids"] + [EOS]
        ids = torch.tensor([prompt + response])
        with torch.no_grad():
            logprobs = torch.log_softmax(model(ids).logits[0], dim=-1)  # [L, V]
        for j, tok in enumerate(response):
            total -= logprobs[len(prompt) - 1 + j, tok].item()
            count += 1
    events = []
    run(params(world, tmp_path, steps=1), events)
    (metric,) = [f for t, f in events if t == "metric"]
    assert metric["tokens"] == count
    assert metric["loss"] == pytest.approx(total / count, abs=1e-5)


def test_full_fine_tuning_changes_every_parameter(world, tmp_path):
    result = run(params(world, tmp_path))
    start = load_file(str(Path(world["model"]) / "model.safetensors"))
    end = load_file(str(Path(result["model_dir"]) / "model.safetensors"))
    assert [k for k in start if torch.equal(start[k], end[k])] == []


def test_lora_output_is_a_merged_plain_directory(world, tmp_path):
    result = run(params(world, tmp_path, lora={**lora(4, 8, dropout=0.0), "target_modules": ["q_proj", "v_proj"]}))
    start = load_file(str(Path(world["model"]) / "model.safetensors"))
    end = load_file(str(Path(result["model_dir"]) / "model.safetensors"))
    assert set(start) == set(end)
    changed = sorted(k for k in start if not torch.equal(start[k], end[k]))
    # Exactly the targeted projections moved: 2 layers x (q_proj, v_proj).
    assert changed == sorted(f"model.layers.{i}.self_attn.{m}.weight" for i in range(2) for m in ("q_proj", "v_proj"))


def test_warmup_then_cosine_schedule(world, tmp_path):
    # lr 1e-3, warmup 2, 6 steps, floor 0.1: warmup gives 1e-3 * (s+1)/2 for s = 0, 1; then cosine
    # from 1e-3 at step 2 to the floor 1e-4 at the last step 5, progress p = (s - 2)/3:
    # 1e-4 + 9e-4 * (1 + cos(pi * p)) / 2.
    events = []
    run(params(world, tmp_path, steps=6, lr=1e-3, schedule="cosine", warmup_steps=2, min_lr_ratio=0.1, batch_size=2), events)
    lrs = [f["lr"] for t, f in events if t == "metric"]
    expected = [5e-4, 1e-3] + [1e-4 + 9e-4 * 0.5 * (1 + math.cos(math.pi * (s - 2) / 3)) for s in range(2, 6)]
    assert lrs == pytest.approx(expected, rel=1e-9)
    assert lrs[-1] == pytest.approx(1e-4, rel=1e-12)


def test_length_bucketed_batches_are_full_cover_an_epoch_once_and_are_a_function_of_the_step():
    from cdpo_trainer.train.batching import BUCKET_POOL_BATCHES, LengthBucketedBatches

    lengths = [(i * 7919) % 53 + 1 for i in range(130)]  # 130 rows, batch 4: 32 full batches an epoch
    order = LengthBucketedBatches(lengths, 4, seed=3)
    assert order.per_epoch == 32
    epoch = [order.indices(k) for k in range(32)]
    seen = [i for b in epoch for i in b]
    assert all(len(b) == 4 for b in epoch) and len(seen) == len(set(seen)) == 128
    # One pool holds all 32 batches here, so the batches, concatenated by length, are sorted.
    assert BUCKET_POOL_BATCHES >= 32
    firsts = sorted(epoch, key=lambda b: lengths[b[0]])
    flat = [lengths[i] for b in firsts for i in b]
    assert flat == sorted(flat)
    # A fresh object (a resumed run) gives the same batch for any step, also across epochs.
    again = LengthBucketedBatches(lengths, 4, seed=3)
    assert [again.indices(k) for k in (40, 5, 33)] == [order.indices(k) for k in (40, 5, 33)]
    assert LengthBucketedBatches(lengths, 4, seed=4).indices(0) != order.indices(0) or \
        LengthBucketedBatches(lengths, 4, seed=4).indices(1) != order.indices(1)


def test_same_seed_same_bytes(world, tmp_path):
    a = run(params(world, tmp_path / "a", batch_size=2, lora=lora(4, dropout=0.2)))
    b = run(params(world, tmp_path / "b", batch_size=2, lora=lora(4, dropout=0.2)))
    assert (Path(a["model_dir"]) / "model.safetensors").read_bytes() == (Path(b["model_dir"]) / "model.safetensors").read_bytes()


def test_empty_response_names_the_example(world, tmp_path):
    data = tmp_path / "bad.jsonl"
    data.write_text('{"prompt_ids": [1, 4], "response_ids": [5]}\n{"prompt_ids": [1], "response_ids": []}\n')
    with pytest.raises(ValueError, match=r"example 1 .*'response_ids' is empty"):
        run(params(world, tmp_path / "out", data_path=str(data)))
