"""Saved models record the tokenizer they were trained with; models load from safetensors only."""

from __future__ import annotations

import hashlib
import json
import shutil
from pathlib import Path

import pytest
import torch

from _train_helpers import tiny_llama, train_params, write_sft
from cdpo_trainer.models.model_dir import MODEL_RECORD, load_model
from cdpo_trainer.train.ops import OPS


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _sft(model: Path, data: Path, out: Path) -> Path:
    params = train_params("sft", model, data, out, steps=1, batch_size=2, lr=1e-3)
    return Path(OPS["sft"](params, lambda *a, **k: None)["model_dir"])


@pytest.fixture(scope="module")
def start(tmp_path_factory):
    root = tmp_path_factory.mktemp("record")
    model = tiny_llama(root / "model")
    # Any bytes do: the record is a hash of the file, whatever tokenizer it holds.
    (model / "tokenizer.json").write_text('{"model": {"vocab": {"a": 0}}}', encoding="utf-8")
    return {"model": model, "data": write_sft(root / "sft.jsonl", n=4)}


def test_a_trained_model_records_its_start_models_tokenizer(start, tmp_path):
    trained = _sft(start["model"], start["data"], tmp_path / "a")
    record = json.loads((trained / MODEL_RECORD).read_text())
    assert record["tokenizer_sha256"] == _sha(start["model"] / "tokenizer.json")
    assert (trained / "tokenizer.json").read_bytes() == (start["model"] / "tokenizer.json").read_bytes()


def test_a_record_is_inherited_not_recomputed(start, tmp_path):
    # Train from a kit checkpoint whose tokenizer.json was since replaced: the new model records
    # the tokenizer the chain was trained with, so the kit's check still sees the swap.
    first = _sft(start["model"], start["data"], tmp_path / "a")
    swapped = tmp_path / "swapped"
    shutil.copytree(first, swapped)
    (swapped / "tokenizer.json").write_text('{"model": {"vocab": {"b": 0}}}', encoding="utf-8")
    second = _sft(swapped, start["data"], tmp_path / "b")
    record = json.loads((second / MODEL_RECORD).read_text())
    assert record["tokenizer_sha256"] == _sha(start["model"] / "tokenizer.json")
    assert record["tokenizer_sha256"] != _sha(second / "tokenizer.json")


def test_pickled_weights_are_not_loaded(start, tmp_path):
    model = tmp_path / "pickled"
    model.mkdir()
    shutil.copyfile(start["model"] / "config.json", model / "config.json")
    from safetensors.torch import load_file

    torch.save(load_file(str(start["model"] / "model.safetensors")), model / "pytorch_model.bin")
    with pytest.raises(ValueError, match="safetensors"):
        load_model(model, torch.float32, "cpu")
