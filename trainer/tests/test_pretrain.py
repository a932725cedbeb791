"""Pretraining the world policy: masking, schedule, batch order, determinism, a loadable checkpoint, bad input."""

from __future__ import annotations

import hashlib
import json
import math
import subprocess
import sys
from pathlib import Path

import pytest
import torch
from safetensors.torch import load_file
from transformers import AutoModelForCausalLM, AutoTokenizer

from cdpo_trainer.world.policy import parameter_count, policy_config
from cdpo_trainer.world.pretrain import IGNORE, BatchOrder, PretrainConfig, encode_corpus, lr_at, pretrain
from cdpo_trainer.world.ops import OPS
from cdpo_trainer.world.tokenizer import load_world_tokenizer, train_world_tokenizer
from world_fixture import write_corpus, write_problems

TINY = {"hidden_size": 32, "intermediate_size": 64, "num_hidden_layers": 2, "num_attention_heads": 2, "num_key_value_heads": 2}


@pytest.fixture(scope="module")
def world(tmp_path_factory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("world")
    corpus = write_corpus(root / "corpus.jsonl", 200, seed=3)
    train_world_tokenizer(corpus, root / "tok")
    return {"root": root, "corpus": corpus, "tok": root / "tok"}


def _params(world, out: Path, **extra) -> dict:
    return {
        "corpus_path": str(world["corpus"]),
        "tokenizer_path": str(world["tok"]),
        "out_dir": str(out),
        "seed": 5,
        "steps": 20,
        "batch_size": 8,
        "lr": 3e-3,
        "warmup_steps": 2,
        "model": TINY,
        "export_onnx": False,
        "log_every": 5,
        **extra,
    }


def _run(params: dict) -> tuple[dict, list[tuple[str, dict]]]:
    events: list[tuple[str, dict]] = []
    result = OPS["pretrain"](params, lambda type_, **fields: events.append((type_, fields)))
    return result, events


@pytest.fixture(scope="module")
def trained(world):
    out = world["root"] / "policy"
    result, events = _run(_params(world, out))
    return out, result, events


def test_targets_cover_response_and_eos_only(tmp_path):
    corpus = tmp_path / "c.jsonl"
    corpus.write_text(json.dumps({"id": "a", "prompt": "x has 4 7 .", "response": "answer 4 7"}) + "\n")
    train_world_tokenizer(corpus, tmp_path / "tok")
    tok = load_world_tokenizer(tmp_path / "tok")
    enc = encode_corpus(corpus, tok)
    p, r = tok.encode("x has 4 7 .").ids, tok.encode("answer 4 7").ids
    # Sequence [bos] x has 4 7 . answer 4 7 [eos] is 10 tokens, so 9 inputs; the targets predicted
    # from bos, x, has, 4, 7 are the 5 prompt tokens, the last 4 are the response and eos.
    assert enc.inputs[0].tolist() == [1] + p + r
    assert enc.targets[0].tolist() == [IGNORE] * 5 + r + [2]
    assert enc.lengths.tolist() == [9]


def test_lr_warms_up_then_decays_to_the_floor():
    cfg = PretrainConfig(corpus_path="c", tokenizer_path="t", out_dir="o", steps=11, lr=1.0, warmup_steps=2, min_lr_ratio=0.1)
    assert [lr_at(s, cfg) for s in (0, 1)] == [0.5, 1.0]
    assert lr_at(2, cfg) == pytest.approx(1.0)  # cosine starts at the peak
    assert lr_at(10, cfg) == pytest.approx(0.1)  # and ends at the floor on the last step
    # Half-way through the cosine (step 6 of 2..10): the mean of peak and floor.
    assert lr_at(6, cfg) == pytest.approx(0.55)


def test_batch_order_is_seeded_bucketed_and_covers_an_epoch_once():
    lengths = torch.tensor([(i * 37) % 50 + 10 for i in range(100)])
    a, b, c = BatchOrder(lengths, 10, seed=1, pool=5), BatchOrder(lengths, 10, seed=1, pool=5), BatchOrder(lengths, 10, seed=2, pool=5)
    first = [a.next() for _ in range(10)]
    assert all(torch.equal(x, b.next()) for x in first)
    assert not all(torch.equal(x, c.next()) for x in first)
    assert sorted(torch.cat(first).tolist()) == list(range(100))  # an epoch is a permutation
    # Bucketing: within a batch lengths are sorted, so their spread is below the corpus spread.
    spread = sum(int(lengths[x].max() - lengths[x].min()) for x in first) / len(first)
    assert spread < 0.5 * int(lengths.max() - lengths.min())


def test_loss_decreases_and_events_stream(trained):
    _, result, events = trained
    progress = [f for t, f in events if t == "progress"]
    assert [f["done"] for f in progress] == [5, 10, 15, 20]
    assert all(f["total"] == 20 and f["tokens_per_s"] > 0 and f["eta_s"] >= 0 for f in progress)
    assert progress[-1]["eta_s"] == 0
    # A 200-line world with a ~60-word vocabulary: an untrained model starts near ln(vocab) and
    # 20 steps of AdamW at 3e-3 must bring the response loss well below it.
    assert result["first_loss"] == pytest.approx(math.log(result["vocab_size"]), rel=0.1)
    assert result["final_loss"] < 0.8 * result["first_loss"]
    assert progress[-1]["loss"] < progress[0]["loss"]
    metrics = [f for t, f in events if t == "metric"]
    assert [m["step"] for m in metrics] == [5, 10, 15, 20]


def test_same_seed_same_weights_other_seed_other_weights(world, trained, tmp_path):
    out, _, _ = trained
    again, _ = _run(_params(world, tmp_path / "again"))
    other, _ = _run(_params(world, tmp_path / "other", seed=6))
    w0 = load_file(out / "model.safetensors")
    w1 = load_file(Path(again["model_dir"]) / "model.safetensors")
    w2 = load_file(Path(other["model_dir"]) / "model.safetensors")
    assert w0.keys() == w1.keys()
    assert all(torch.equal(w0[k], w1[k]) for k in w0)
    assert not all(torch.equal(w0[k], w2[k]) for k in w0)


def test_checkpoint_loads_with_transformers(trained, world):
    out, result, _ = trained
    names = {p.name for p in out.iterdir()}
    assert {"config.json", "generation_config.json", "model.safetensors", "tokenizer.json", "tokenizer_config.json"} <= names
    assert not any(n.endswith(".tmp") for n in (p.name for p in out.parent.iterdir()))
    model = AutoModelForCausalLM.from_pretrained(out)
    tokenizer = AutoTokenizer.from_pretrained(out)
    assert (model.config.bos_token_id, model.config.eos_token_id, model.config.pad_token_id) == (1, 2, 0)
    assert sum(p.numel() for p in model.parameters()) == result["parameters"] == parameter_count(result["vocab_size"], TINY)
    assert model.config.hidden_size == 32 and model.config.num_hidden_layers == 2
    # The loaded weights are the trained ones: their response loss is the run's, not ln(vocab).
    enc = encode_corpus(world["corpus"], load_world_tokenizer(out))
    with torch.no_grad():
        logits = model(input_ids=enc.inputs[:64]).logits
    loss = torch.nn.functional.cross_entropy(logits.flatten(0, 1), enc.targets[:64].flatten(), ignore_index=IGNORE)
    assert loss.item() < 0.9 * result["first_loss"]
    assert tokenizer.decode(tokenizer("answer 4 7")["input_ids"]) == "answer 4 7"
    # It records the tokenizer it was trained with (the kit refuses it with any other).
    record = json.loads((out / "cdpo_model.json").read_text())
    assert record["tokenizer_sha256"] == hashlib.sha256((out / "tokenizer.json").read_bytes()).hexdigest()


def test_rerun_replaces_the_directory_whole(world, tmp_path):
    out = tmp_path / "policy"
    _run(_params(world, out, steps=2))
    (out / "stale.txt").write_text("from an older run")
    _run(_params(world, out, steps=2))
    assert not (out / "stale.txt").exists()
    assert [p.name for p in tmp_path.iterdir()] == ["policy"]


def test_onnx_export_runs_when_asked(world, tmp_path):
    result, _ = _run(_params(world, tmp_path / "p", steps=2, export_onnx=True))
    assert result["onnx"] is True
    assert (tmp_path / "p" / "model.onnx").stat().st_size > 0


def test_steps_must_be_positive(world, tmp_path):
    with pytest.raises(ValueError, match="'steps' is 0"):
        _run(_params(world, tmp_path / "p", steps=0))


def test_missing_corpus_names_the_path(world, tmp_path):
    with pytest.raises(ValueError, match="missing-corpus.jsonl"):
        _run(_params(world, tmp_path / "p", corpus_path=str(tmp_path / "missing-corpus.jsonl")))


def test_corpus_line_without_prompt_names_file_line_and_field(world, tmp_path):
    bad = tmp_path / "bad.jsonl"
    lines = world["corpus"].read_text().splitlines()
    lines[4] = json.dumps({"id": "x", "response": "answer 1"})
    bad.write_text("\n".join(lines) + "\n")
    with pytest.raises(ValueError, match=r"bad\.jsonl:5: missing field 'prompt'"):
        _run(_params(world, tmp_path / "p", corpus_path=str(bad)))
    assert not (tmp_path / "p").exists()


def test_unknown_model_field_is_rejected():
    with pytest.raises(ValueError, match="hidden_sise"):
        policy_config(60, {"hidden_sise": 64})


def test_world_ops_over_the_protocol(world, tmp_path):
    """Spawns the real trainer: train_tokenizer, a 2-step pretrain, then a bad pretrain on the same process."""
    tok_dir, out = tmp_path / "tok", tmp_path / "policy"
    requests = [
        {"v": 1, "id": 1, "op": "train_tokenizer", "params": {"corpus_path": str(world["corpus"]), "out_dir": str(tok_dir)}},
        {"v": 1, "id": 2, "op": "pretrain", "params": {**_params(world, out, steps=2, log_every=1), "tokenizer_path": str(tok_dir)}},
        {"v": 1, "id": 3, "op": "pretrain", "params": _params(world, out, steps=-1)},
    ]
    proc = subprocess.run(
        [sys.executable, "-m", "cdpo_trainer"], input="".join(json.dumps(r) + "\n" for r in requests),
        capture_output=True, text=True, timeout=300, cwd=Path(__file__).resolve().parents[1],
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    lines = [json.loads(line) for line in proc.stdout.splitlines()]
    by_id = {i: [m for m in lines if m["id"] == i] for i in (1, 2, 3)}
    assert by_id[1][-1]["type"] == "result" and Path(by_id[1][-1]["result"]["tokenizer_path"]).is_file()
    assert [m["done"] for m in by_id[2] if m["type"] == "progress"] == [1, 2]
    assert by_id[2][-1]["type"] == "result" and by_id[2][-1]["result"]["model_dir"] == str(out)
    assert by_id[3][-1]["type"] == "error" and by_id[3][-1]["error"]["kind"] == "bad_input"
    assert "'steps' is -1" in by_id[3][-1]["error"]["message"]
