"""Loading, hashing and saving the Hugging Face model directories the trainer reads and writes.

A model directory is config.json + *.safetensors (+ tokenizer files). Saved directories are plain
HF directories: LoRA adapters are merged into a copy of the model before saving, so every consumer
(the ONNX exporter, `AutoModelForCausalLM`, the scorers) sees one format.
"""

from __future__ import annotations

import copy
import hashlib
import json
import shutil
import sys
from pathlib import Path

import torch

# Files copied from the start model into every saved directory so it stays self-contained.
_TOKENIZER_FILES = ("tokenizer.json", "tokenizer_config.json", "special_tokens_map.json", "generation_config.json",
                    "chat_template.jinja")  # transformers 5 keeps an instruct model's template there

# The record beside a saved model naming the tokenizer it was trained with (sha256 of the
# tokenizer.json bytes). The token ids it was trained on mean nothing under another tokenizer, so
# the kit refuses to run it with one whose bytes differ (src/lm/model_check.ts reads this file).
MODEL_RECORD = "cdpo_model.json"


def read_config(model_dir: str | Path) -> dict:
    path = Path(model_dir) / "config.json"
    if not path.is_file():
        raise FileNotFoundError(f"Cannot load model: {path} does not exist (expected a Hugging Face model directory)")
    return json.loads(path.read_text(encoding="utf-8"))


def _first_id(value) -> int | None:
    if isinstance(value, list):
        return value[0] if value else None
    return value


def eos_token_id(model_dir: str | Path) -> int:
    """The id appended to every response: config.json's eos_token_id, else generation_config.json's."""
    config = read_config(model_dir)
    eos = _first_id(config.get("eos_token_id"))
    gen_path = Path(model_dir) / "generation_config.json"
    if eos is None and gen_path.is_file():
        eos = _first_id(json.loads(gen_path.read_text(encoding="utf-8")).get("eos_token_id"))
    if eos is None:
        raise ValueError(f"Cannot train on {model_dir}: neither config.json nor generation_config.json names an eos_token_id")
    return int(eos)


def pad_token_id(model_dir: str | Path) -> int:
    """Padding id; any id works because padded cells are masked, so fall back to EOS."""
    pad = _first_id(read_config(model_dir).get("pad_token_id"))
    return int(pad) if pad is not None else eos_token_id(model_dir)


def model_hash(model_dir: str | Path) -> str:
    """sha256 over config.json and the model*.safetensors weight files (sorted by name).

    Only model*.safetensors: a checkpoint directory also holds optimizer/rng safetensors, which are
    not weights and must not change the identity of the model they sit beside.
    """
    model_dir = Path(model_dir)
    files = [model_dir / "config.json"] + sorted(model_dir.glob("model*.safetensors"))
    h = hashlib.sha256()
    for path in files:
        h.update(path.name.encode() + b"\0")
        with path.open("rb") as f:
            for chunk in iter(lambda: f.read(1 << 20), b""):
                h.update(chunk)
    return h.hexdigest()


def file_hash(path: str | Path) -> str:
    h = hashlib.sha256()
    with Path(path).open("rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def load_model(model_dir: str | Path, dtype: torch.dtype, device: str):
    from transformers import AutoModelForCausalLM
    from transformers.utils import logging as hf_logging

    # Progress bars would bury the stderr tail the client keeps for error reports.
    hf_logging.disable_progress_bar()
    read_config(model_dir)  # a clear error before transformers' own
    # Safetensors only: a pickled checkpoint can run code when it is loaded.
    try:
        model = AutoModelForCausalLM.from_pretrained(str(model_dir), dtype=dtype, use_safetensors=True)
    except OSError as e:  # missing or unreadable weights: the caller's input, not a defect
        raise ValueError(f"Cannot load model from {model_dir}: {e}") from e
    return model.to(device)


def write_hf_dir(model, is_lora: bool, source_dir: str | Path, dest_dir: Path) -> None:
    """Writes `model` as a plain HF directory into `dest_dir` (which must not exist yet).

    LoRA: merge into a deep copy, because merging in place and unmerging later is not bit-exact
    and would make a resumed run drift from an uninterrupted one. Costs one model copy in memory.
    """
    dest_dir.mkdir(parents=True)
    if is_lora:
        merged = copy.deepcopy(model).merge_and_unload()
        merged.save_pretrained(str(dest_dir))
        del merged
    else:
        model.save_pretrained(str(dest_dir))
    for name in _TOKENIZER_FILES:
        src = Path(source_dir) / name
        if src.is_file() and not (dest_dir / name).exists():
            shutil.copyfile(src, dest_dir / name)
    write_model_record(dest_dir, source_dir)


def write_model_record(dest_dir: str | Path, source_dir: str | Path | None = None) -> None:
    """Records the tokenizer the model in `dest_dir` was trained with.

    That is the start model's: its own record when it has one (a kit checkpoint, whose record
    stands even if its tokenizer.json was since replaced), else the hash of its tokenizer.json,
    which write_hf_dir copied. A directory without a tokenizer gets no record.
    """
    dest_dir = Path(dest_dir)
    source = Path(source_dir) if source_dir is not None else dest_dir
    if (source / MODEL_RECORD).is_file():
        sha = json.loads((source / MODEL_RECORD).read_text(encoding="utf-8"))["tokenizer_sha256"]
    elif (source / "tokenizer.json").is_file():
        sha = file_hash(source / "tokenizer.json")
    else:
        return
    record = {"format": "cdpo-kit-model", "format_version": 1, "tokenizer_sha256": sha}
    (dest_dir / MODEL_RECORD).write_text(json.dumps(record, indent=2, sort_keys=True) + "\n", encoding="utf-8")


def maybe_export_onnx(model_dir: Path) -> tuple[str | None, str | None]:
    """Runs cdpo_trainer.onnx_export.export_onnx(model_dir) when that module and function exist.

    Returns (onnx_path, error). An export failure does not fail the training op: the HF directory
    is already saved and is the source of truth; the error is returned so the caller can report it.
    """
    try:
        from cdpo_trainer.models import onnx_export
    except ImportError:
        return None, None
    export = getattr(onnx_export, "export_onnx", None)
    if export is None:
        return None, None
    try:
        return str(export(model_dir)), None
    except Exception as e:  # noqa: BLE001 - reported to the client in the op's result
        print(f"ONNX export of {model_dir} failed: {type(e).__name__}: {e}", file=sys.stderr)
        return None, f"{type(e).__name__}: {e}"
