"""The world's policy: corpus encoding, a seeded initial policy, and pretraining through the `sft`
op (the shared training loop) on the encoded corpus; determinism, a loadable checkpoint, bad input."""

from __future__ import annotations

import json
import math
import subprocess
import sys
from pathlib import Path

import pytest
import torch
from safetensors.torch import load_file
from transformers import AutoModelForCausalLM, AutoTokenizer

from _train_helpers import train_params
from cdpo_trainer.train.ops import OPS as TRAIN_OPS
from cdpo_trainer.world.ops import OPS
from cdpo_trainer.world.policy import model_fields, parameter_count
from cdpo_trainer.world.tokenizer import load_world_tokenizer, train_world_tokenizer
from world_fixture import write_corpus

TINY = {
    "hidden_size": 32,
    "intermediate_size": 64,
    "num_hidden_layers": 2,
    "num_attention_heads": 2,
    "num_key_value_heads": 2,
    "max_position_embeddings": 128,
    "rms_norm_eps": 1e-5,
    "rope_theta": 10000.0,
    "initializer_range": 0.02,
    "tie_word_embeddings": False,
}
quiet = lambda *a, **k: None  # noqa: E731


@pytest.fixture(scope="module")
def world(tmp_path_factory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("world")
    corpus = write_corpus(root / "corpus.jsonl", 200, seed=3)
    train_world_tokenizer(corpus, root / "tok", model_max_length=128)
    OPS["init_policy"]({"tokenizer_path": str(root / "tok"), "out_dir": str(root / "init"), "seed": 5, "model": TINY}, quiet)
    OPS["encode_corpus"]({"corpus_path": str(corpus), "tokenizer_path": str(root / "tok"), "out_path": str(root / "examples.jsonl")}, quiet)
    return {"root": root, "corpus": corpus, "tok": root / "tok", "init": root / "init", "examples": root / "examples.jsonl"}


def pretrain_params(world, out: Path, **kw) -> dict:
    """Pretraining as the world build requests it: full training from the initial policy."""
    return train_params(
        "sft", world["init"], world["examples"], out,
        **{"steps": 20, "batch_size": 8, "lr": 3e-3, "schedule": "cosine", "warmup_steps": 2, "min_lr_ratio": 0.1,
           "weight_decay": 0.01, "adam_betas": [0.9, 0.95], "batching": "length_bucketed", "seed": 5, **kw},
    )


@pytest.fixture(scope="module")
def trained(world):
    events: list[tuple[str, dict]] = []
    result = TRAIN_OPS["sft"](pretrain_params(world, world["root"] / "run"), lambda t, **f: events.append((t, f)))
    return Path(result["model_dir"]), result, events


def test_encoded_examples_are_bos_prompt_and_the_response(tmp_path):
    corpus = tmp_path / "c.jsonl"
    corpus.write_text(json.dumps({"id": "a", "prompt": "x has 4 7 .", "response": "answer 4 7"}) + "\n")
    train_world_tokenizer(corpus, tmp_path / "tok", model_max_length=64)
    tok = load_world_tokenizer(tmp_path / "tok")
    result = OPS["encode_corpus"]({"corpus_path": str(corpus), "tokenizer_path": str(tmp_path / "tok"), "out_path": str(tmp_path / "e.jsonl")}, quiet)
    (line,) = (tmp_path / "e.jsonl").read_text().splitlines()
    assert json.loads(line) == {"prompt_ids": [1] + tok.encode("x has 4 7 .").ids, "response_ids": tok.encode("answer 4 7").ids}
    # [bos] x has 4 7 . answer 4 7 [eos]: 10 tokens.
    assert result["examples"] == 1 and result["max_sequence_tokens"] == 10


def test_the_initial_policy_is_seeded_and_shaped_as_asked(world, tmp_path):
    again = OPS["init_policy"]({"tokenizer_path": str(world["tok"]), "out_dir": str(tmp_path / "a"), "seed": 5, "model": TINY}, quiet)
    other = OPS["init_policy"]({"tokenizer_path": str(world["tok"]), "out_dir": str(tmp_path / "b"), "seed": 6, "model": TINY}, quiet)
    w0, w1, w2 = (load_file(Path(d) / "model.safetensors") for d in (world["init"], again["model_dir"], other["model_dir"]))
    assert all(torch.equal(w0[k], w1[k]) for k in w0)
    assert not all(torch.equal(w0[k], w2[k]) for k in w0)
    model = AutoModelForCausalLM.from_pretrained(world["init"])
    assert sum(p.numel() for p in model.parameters()) == again["parameters"] == parameter_count(again["vocab_size"], TINY)
    assert (model.config.hidden_size, model.config.num_hidden_layers, model.config.max_position_embeddings) == (32, 2, 128)


def test_pretraining_lowers_the_loss_and_streams_every_step(trained):
    _, result, events = trained
    metrics = [f for t, f in events if t == "metric"]
    assert [m["step"] for m in metrics] == list(range(1, 21))
    # A 200-line world with a ~60-word vocabulary: an untrained model starts near ln(vocab), and
    # 20 steps of AdamW at 3e-3 must bring the response loss well below it.
    vocab = load_world_tokenizer(result["model_dir"]).get_vocab_size()
    assert metrics[0]["loss"] == pytest.approx(math.log(vocab), rel=0.1)
    assert sum(m["loss"] for m in metrics[-5:]) / 5 < 0.8 * metrics[0]["loss"]
    assert metrics[-1]["lr"] == pytest.approx(3e-4)  # cosine ends at the floor


def test_same_seed_same_weights_other_seed_other_weights(world, trained, tmp_path):
    out, _, _ = trained
    again = TRAIN_OPS["sft"](pretrain_params(world, tmp_path / "again"), quiet)
    other = TRAIN_OPS["sft"](pretrain_params(world, tmp_path / "other", seed=6), quiet)
    w0 = load_file(out / "model.safetensors")
    w1 = load_file(Path(again["model_dir"]) / "model.safetensors")
    w2 = load_file(Path(other["model_dir"]) / "model.safetensors")
    assert all(torch.equal(w0[k], w1[k]) for k in w0)
    assert not all(torch.equal(w0[k], w2[k]) for k in w0)


def test_the_pretrained_policy_loads_with_transformers(trained):
    out, _, _ = trained
    names = {p.name for p in out.iterdir()}
    assert {"config.json", "generation_config.json", "model.safetensors", "tokenizer.json", "tokenizer_config.json"} <= names
    model = AutoModelForCausalLM.from_pretrained(out)
    tokenizer = AutoTokenizer.from_pretrained(out)
    assert (model.config.bos_token_id, model.config.eos_token_id, model.config.pad_token_id) == (1, 2, 0)
    assert tokenizer.decode(tokenizer("answer 4 7")["input_ids"]) == "answer 4 7"


def test_bad_corpus_and_model_fields_name_what_is_wrong(world, tmp_path):
    with pytest.raises(ValueError, match="missing-corpus.jsonl"):
        OPS["encode_corpus"]({"corpus_path": str(tmp_path / "missing-corpus.jsonl"), "tokenizer_path": str(world["tok"]), "out_path": str(tmp_path / "e")}, quiet)
    bad = tmp_path / "bad.jsonl"
    lines = world["corpus"].read_text().splitlines()
    lines[4] = json.dumps({"id": "x", "response": "answer 1"})
    bad.write_text("\n".join(lines) + "\n")
    with pytest.raises(ValueError, match=r"bad\.jsonl:5: missing field 'prompt'"):
        OPS["encode_corpus"]({"corpus_path": str(bad), "tokenizer_path": str(world["tok"]), "out_path": str(tmp_path / "e")}, quiet)
    assert not (tmp_path / "e").exists()
    with pytest.raises(ValueError, match="hidden_sise"):
        OPS["init_policy"]({"tokenizer_path": str(world["tok"]), "out_dir": str(tmp_path / "p"), "seed": 0, "model": {**TINY, "hidden_sise": 3}}, quiet)
    without = {k: v for k, v in TINY.items() if k != "rope_theta"}
    with pytest.raises(ValueError, match="missing parameter 'rope_theta'"):
        OPS["init_policy"]({"tokenizer_path": str(world["tok"]), "out_dir": str(tmp_path / "p"), "seed": 0, "model": without}, quiet)
    with pytest.raises(ValueError, match="not a multiple"):
        model_fields({**TINY, "num_attention_heads": 3})


def test_world_ops_over_the_protocol(world, tmp_path):
    """Spawns the real trainer: tokenizer, initial policy, encoded corpus and a 2-step pretraining."""
    tok, init, examples = tmp_path / "tok", tmp_path / "init", tmp_path / "examples.jsonl"
    params = {**pretrain_params(world, tmp_path / "run", steps=2), "model_dir": str(init), "data_path": str(examples)}
    requests = [
        {"op": "train_tokenizer", "params": {"corpus_path": str(world["corpus"]), "out_dir": str(tok), "model_max_length": 128}},
        {"op": "init_policy", "params": {"tokenizer_path": str(tok), "out_dir": str(init), "seed": 5, "model": TINY}},
        {"op": "encode_corpus", "params": {"corpus_path": str(world["corpus"]), "tokenizer_path": str(tok), "out_path": str(examples)}},
        {"op": "sft", "params": params},
        {"op": "sft", "params": {**params, "steps": -1}},
    ]
    stdin = "".join(json.dumps({"v": 1, "id": i + 1, **r}) + "\n" for i, r in enumerate(requests))
    proc = subprocess.run(
        [sys.executable, "-m", "cdpo_trainer"], input=stdin, capture_output=True, text=True, timeout=300,
        cwd=Path(__file__).resolve().parents[1],
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    lines = [json.loads(line) for line in proc.stdout.splitlines()]
    final = {m["id"]: m for m in lines if m["type"] in ("result", "error")}
    assert [final[i]["type"] for i in (1, 2, 3, 4, 5)] == ["result"] * 4 + ["error"]
    assert [m["done"] for m in lines if m["id"] == 4 and m["type"] == "progress"] == [1, 2]
    assert final[5]["error"]["kind"] == "bad_input" and "'steps'" in final[5]["error"]["message"]
