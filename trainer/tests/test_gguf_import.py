"""GGUF import on the real SmolLM2-135M-Instruct file: the converted directory is the model that
transformers itself loads from the GGUF, and bad files are refused by name."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch

from cdpo_trainer.models.gguf_import import GgufImportError, cached_import, import_gguf, is_current
from real_model import MODEL_CACHE, smollm2_dir, smollm2_gguf


def test_converted_directory_gives_transformers_own_logits():
    """Independent reference: transformers' own GGUF loader (dequantising in memory)."""
    from transformers import AutoModelForCausalLM, AutoTokenizer
    from transformers.utils import logging as hf_logging

    hf_logging.disable_progress_bar()
    gguf = smollm2_gguf()
    model_dir = smollm2_dir()
    # Loaded from safetensors only: no GGUF is involved in reading the converted directory.
    converted = AutoModelForCausalLM.from_pretrained(str(model_dir), dtype=torch.float32).eval()
    reference = AutoModelForCausalLM.from_pretrained(str(gguf.parent), gguf_file=gguf.name, dtype=torch.float32).eval()
    tokenizer = AutoTokenizer.from_pretrained(str(model_dir))
    reference_tokenizer = AutoTokenizer.from_pretrained(str(gguf.parent), gguf_file=gguf.name)
    text = "Natalia sold clips to 48 of her friends in April. The answer is 72."
    ids = tokenizer(text, return_tensors="pt").input_ids
    assert ids.tolist() == reference_tokenizer(text, return_tensors="pt").input_ids.tolist()
    with torch.no_grad():
        a = converted(ids).logits
        b = reference(ids).logits
    assert a.shape == (1, ids.shape[1], 49152)
    # The same dequantised float32 weights in the same graph: equal up to kernel rounding.
    assert torch.allclose(a, b, atol=1e-4, rtol=0), float((a - b).abs().max())
    # A real model, not noise: its mean next-token loss on English text is far below a uniform
    # guess over 49,152 tokens (ln 49152 = 10.8 nats).
    nll = torch.nn.functional.cross_entropy(a[0, :-1], ids[0, 1:])
    assert float(nll) < 7.0, float(nll)  # measured: 5.35


def test_converted_directory_is_complete_and_plain():
    model_dir = smollm2_dir()
    config = json.loads((model_dir / "config.json").read_text())
    assert config["architectures"] == ["LlamaForCausalLM"]
    assert "quantization_config" not in config and "_name_or_path" not in config
    assert config["tie_word_embeddings"] is True
    for name in ("model.safetensors", "tokenizer.json", "tokenizer_config.json", "generation_config.json"):
        assert (model_dir / name).is_file(), name
    # The chat template travels with the tokenizer (SmolLM2 is an instruct model).
    assert "<|im_start|>" in (model_dir / "chat_template.jinja").read_text()
    record = json.loads((model_dir / "gguf_import.json").read_text())
    assert record["source"] == "SmolLM2-135M-Instruct.Q4_1.gguf" and len(record["sha256"]) == 64
    assert is_current(model_dir, smollm2_gguf(), record["sha256"])
    # Cached: a second call converts nothing.
    again, sha, converted = cached_import(smollm2_gguf(), MODEL_CACHE)
    assert (again, sha, converted) == (model_dir, record["sha256"], False)


def test_a_file_transformers_cannot_read_is_refused_by_name(tmp_path):
    bad = tmp_path / "broken.gguf"
    bad.write_bytes(b"GGUF" + np.arange(64, dtype=np.uint8).tobytes())
    with pytest.raises(GgufImportError, match=r"Cannot import .*broken\.gguf: transformers cannot read it"):
        import_gguf(bad, tmp_path / "out")
    assert not (tmp_path / "out").exists()
    assert [p.name for p in tmp_path.iterdir()] == ["broken.gguf"], "no temporary folder is left behind"
    with pytest.raises(GgufImportError, match=r"missing\.gguf: no such file"):
        cached_import(tmp_path / "missing.gguf", tmp_path / "cache")


def test_an_unsupported_architecture_is_refused_by_name(tmp_path):
    import gguf

    path = tmp_path / "mystery.gguf"
    writer = gguf.GGUFWriter(str(path), "mysterynet")
    writer.add_block_count(1)
    writer.add_tensor("token_embd.weight", np.zeros((4, 8), dtype=np.float32))
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    writer.close()
    with pytest.raises(GgufImportError, match=r"mystery\.gguf: transformers cannot read it .*mysterynet"):
        import_gguf(path, tmp_path / "out")
