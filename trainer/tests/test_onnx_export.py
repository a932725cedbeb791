"""The ONNX export against transformers, evaluated with onnx's own numpy reference runtime.

onnxruntime is deliberately not a Python dependency; `onnx.reference.ReferenceEvaluator` is an
independent implementation of the operators, and the Deno tests check onnxruntime-node.
"""

from __future__ import annotations

import hashlib
import json

import numpy as np
import onnx
import pytest
import torch
from onnx.reference import ReferenceEvaluator
from transformers import AutoModelForCausalLM

from cdpo_trainer.models.onnx_export import export_onnx
from cdpo_trainer.models.tiny_llama import TinyLlamaSpec, build_tiny_llama


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    d = build_tiny_llama(tmp_path_factory.mktemp("tiny"), TinyLlamaSpec(seed=11))
    export_onnx(d)
    return d


def _empty_past(meta, batch):
    return {
        f"past_key_values.{i}.{k}": np.zeros((batch, meta["num_key_value_heads"], 0, meta["head_dim"]), np.float32)
        for i in range(meta["num_hidden_layers"]) for k in ("key", "value")
    }


def _logp(x):
    x = x.astype(np.float64)
    return x - (x.max(-1, keepdims=True) + np.log(np.exp(x - x.max(-1, keepdims=True)).sum(-1, keepdims=True)))


def test_contract_names_and_metadata(tiny):
    model = onnx.load(str(tiny / "model.onnx"))
    onnx.checker.check_model(model)
    names_in = [i.name for i in model.graph.input]
    names_out = [o.name for o in model.graph.output]
    assert names_in[:3] == ["input_ids", "attention_mask", "position_ids"]
    assert names_in[3:] == [f"past_key_values.{i}.{k}" for i in range(2) for k in ("key", "value")]
    assert names_out == ["logits"] + [f"present.{i}.{k}" for i in range(2) for k in ("key", "value")]
    meta = json.loads((tiny / "model.onnx.json").read_text())
    assert (meta["num_key_value_heads"], meta["head_dim"], meta["vocab_size"], meta["eos_token_id"]) == (2, 16, 128, [3])


def test_score_graph_matches_transformers(tiny):
    """Right-padded rows of different lengths: the real positions' log-probs match transformers on
    the unpadded rows, and target_log_probs is log_probs read at target_ids."""
    meta = json.loads((tiny / "model.onnx.json").read_text())
    assert meta["score_graph"] == "model.score.onnx"
    model = onnx.load(str(tiny / meta["score_graph"]))
    onnx.checker.check_model(model)
    assert [i.name for i in model.graph.input] == ["input_ids", "target_ids"]
    assert [o.name for o in model.graph.output] == ["log_probs", "target_log_probs"]
    assert sum(n.op_type == "Attention" for n in model.graph.node) == 2
    hf = AutoModelForCausalLM.from_pretrained(str(tiny)).eval()
    rows = [[2, 10, 11, 12, 13, 14], [2, 40, 41]]
    ids = np.zeros((2, 6), np.int64)
    for b, r in enumerate(rows):
        ids[b, : len(r)] = r
    targets = np.array([[10, 11, 12, 13, 14, 3], [40, 41, 42, 0, 0, 0]], np.int64)
    log_probs, picked = ReferenceEvaluator(model).run(None, {"input_ids": ids, "target_ids": targets})
    for b, r in enumerate(rows):
        with torch.no_grad():
            ref = hf(torch.tensor([r])).logits[0].numpy()
        assert np.abs(log_probs[b, : len(r)] - _logp(ref)).max() < 1e-4
    assert np.array_equal(picked, np.take_along_axis(log_probs, targets[..., None], 2)[..., 0])


def test_deterministic_bytes(tiny, tmp_path):
    other = export_onnx(tiny, tmp_path / "again.onnx")
    digest = lambda p: hashlib.sha256(p.read_bytes()).hexdigest()  # noqa: E731
    assert digest(other) == digest(tiny / "model.onnx")
    assert digest(tmp_path / "again.decode.onnx") == digest(tiny / "model.decode.onnx")
    assert digest(tmp_path / "again.score.onnx") == digest(tiny / "model.score.onnx")
    assert not [p for p in tmp_path.iterdir() if p.name.endswith(".tmp")]  # no temp files left behind


def test_prefill_and_cached_decode_match_transformers(tiny):
    """Left-padded batch: prefill logits, then one cached step, against transformers on the unpadded rows."""
    meta = json.loads((tiny / "model.onnx.json").read_text())
    hf = AutoModelForCausalLM.from_pretrained(str(tiny)).eval()
    sess = ReferenceEvaluator(str(tiny / "model.onnx"))
    rows = [[2, 10, 11, 12, 13], [2, 40, 41]]
    width = 5
    ids = np.zeros((2, width), np.int64)
    mask = np.zeros((2, width), np.int64)
    pos = np.zeros((2, width), np.int64)
    for b, r in enumerate(rows):
        ids[b, width - len(r):] = r
        mask[b, width - len(r):] = 1
        pos[b, width - len(r):] = np.arange(len(r))
    out = sess.run(None, {"input_ids": ids, "attention_mask": mask, "position_ids": pos, **_empty_past(meta, 2)})
    logits, present = out[0], out[1:]
    nxt = np.array([[20], [21]], np.int64)
    mask2 = np.concatenate([mask, np.ones((2, 1), np.int64)], 1)
    pos2 = np.array([[len(rows[0])], [len(rows[1])]], np.int64)
    past = {f"past_key_values.{i}.{k}": present[2 * i + j] for i in range(2) for j, k in enumerate(("key", "value"))}
    step = sess.run(None, {"input_ids": nxt, "attention_mask": mask2, "position_ids": pos2, **past})[0]
    for b, r in enumerate(rows):
        with torch.no_grad():
            ref = hf(torch.tensor([r + [int(nxt[b, 0])]])).logits[0].numpy()
        got = logits[b, width - len(r):]
        assert np.abs(_logp(got) - _logp(ref[: len(r)])).max() < 1e-4
        assert np.abs(_logp(step[b, 0]) - _logp(ref[len(r)])).max() < 1e-4


def test_decode_graph_matches_main_graph_with_a_holed_cache(tiny):
    """The decode graph's outputs are the main graph's last logits and new cache entries, also when
    the cache is a larger buffer whose unfilled slots hold junk and are masked out."""
    meta = json.loads((tiny / "model.onnx.json").read_text())
    assert meta["format_version"] == 4 and meta["decode_graph"] == "model.decode.onnx"
    main = ReferenceEvaluator(str(tiny / "model.onnx"))
    dec = ReferenceEvaluator(str(tiny / "model.decode.onnx"))
    ids = np.array([[0, 2, 10, 11], [2, 40, 41, 42]], np.int64)
    mask = np.array([[0, 1, 1, 1], [1, 1, 1, 1]], np.int64)
    pos = np.array([[0, 0, 1, 2], [0, 1, 2, 3]], np.int64)
    feeds = {"input_ids": ids, "attention_mask": mask, "position_ids": pos, **_empty_past(meta, 2)}
    logits, *present = main.run(None, feeds)
    last, *new = dec.run(None, feeds)
    assert np.abs(last - logits[:, -1]).max() < 1e-5
    for p, n in zip(present, new, strict=True):
        assert np.abs(p - n).max() < 1e-5
    # Next step: the 4-slot cache inside a 7-slot buffer (3 junk slots, masked) gives the same.
    nxt, pos2 = np.array([[20], [21]], np.int64), np.array([[3], [4]], np.int64)
    holed = {
        f"past_key_values.{i}.{k}": np.concatenate([present[2 * i + j], np.full((2, 2, 3, 16), 7.0, np.float32)], 2)
        for i in range(2) for j, k in enumerate(("key", "value"))
    }
    hmask = np.concatenate([mask, np.zeros((2, 3), np.int64), np.ones((2, 1), np.int64)], 1)
    last2, *new2 = dec.run(None, {"input_ids": nxt, "attention_mask": hmask, "position_ids": pos2, **holed})
    compact = {f"past_key_values.{i}.{k}": present[2 * i + j] for i in range(2) for j, k in enumerate(("key", "value"))}
    cmask = np.concatenate([mask, np.ones((2, 1), np.int64)], 1)
    logits2, *present2 = main.run(None, {"input_ids": nxt, "attention_mask": cmask, "position_ids": pos2, **compact})
    assert np.abs(last2 - logits2[:, -1]).max() < 1e-5
    for p, n in zip(present2, new2, strict=True):
        assert np.abs(p[:, :, -1:] - n).max() < 1e-5  # float32 sums over 7 vs 4 slots


def test_tied_embeddings_export(tmp_path):
    d = build_tiny_llama(tmp_path / "tied", TinyLlamaSpec(tie_word_embeddings=True, num_hidden_layers=1, seed=2))
    export_onnx(d)
    meta = json.loads((d / "model.onnx.json").read_text())
    hf = AutoModelForCausalLM.from_pretrained(str(d)).eval()
    r = [2, 7, 8, 9]
    feeds = {"input_ids": np.array([r]), "attention_mask": np.ones((1, 4), np.int64), "position_ids": np.arange(4)[None]}
    got = ReferenceEvaluator(str(d / "model.onnx")).run(None, {**feeds, **_empty_past(meta, 1)})[0][0]
    with torch.no_grad():
        ref = hf(torch.tensor([r])).logits[0].numpy()
    assert np.abs(_logp(got) - _logp(ref)).max() < 1e-4
    assert "lm_head.weight_t" not in {i.name for i in onnx.load(str(d / "model.onnx")).graph.initializer}
    score = ReferenceEvaluator(str(d / "model.score.onnx")).run(None, {"input_ids": np.array([r]), "target_ids": np.array([r])})[0][0]
    assert np.abs(score - _logp(ref)).max() < 1e-4


def test_missing_and_corrupt_files_name_the_path(tmp_path):
    with pytest.raises(FileNotFoundError, match="config.json"):
        export_onnx(tmp_path)
    d = build_tiny_llama(tmp_path / "m", TinyLlamaSpec(num_hidden_layers=1))
    (d / "model.safetensors").write_bytes(b"not a safetensors file")
    with pytest.raises(ValueError, match="model.safetensors"):
        export_onnx(d)
