"""A `.gguf` checkpoint turned once into a float32 Hugging Face directory the whole kit can read.

transformers (with the `gguf` package) reads GGUF files but refuses to save a model loaded from
one ("quantized with gguf ... not serializable"). So the model is rebuilt from the GGUF's config
alone (no quantization config), on the meta device so no random weights are ever allocated, the
dequantised tensors are assigned to it, and it is saved as safetensors beside a tokenizer built
from the same file. Every later load then reads safetensors only.

The result is cached by the file's content: `<cache_dir>/<sha256 prefix>/` holds config.json,
model.safetensors, generation_config.json, the tokenizer files and `gguf_import.json` (the source's
name and full sha256, and the transformers version that converted it). A directory whose record
does not match is converted again. Writes are atomic: a temporary folder beside the target is
renamed into place, so a reader sees no directory or a complete one.

    python -m cdpo_trainer.models.gguf_import FILE.gguf OUT_DIR    # converts into OUT_DIR exactly

The trainer op `gguf_import {gguf_path, cache_dir}` -> {model_dir, sha256, converted} is what the
kit calls (src/lm/gguf.ts) when a preset's `policy.path` names a .gguf file.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import tempfile
from pathlib import Path
from typing import Any

from cdpo_trainer.atomic import replace_dir, write_text_atomic

RECORD = "gguf_import.json"
# Bump when the layout of a converted directory changes: older caches are then converted again.
FORMAT_VERSION = 1


class GgufImportError(ValueError):
    """A GGUF file that cannot be converted; the message names the file."""


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _record(gguf_path: Path, sha256: str) -> dict[str, Any]:
    import transformers

    return {"format": FORMAT_VERSION, "source": gguf_path.name, "sha256": sha256, "transformers": transformers.__version__}


def is_current(model_dir: Path, gguf_path: Path, sha256: str) -> bool:
    """Whether `model_dir` is a complete conversion of this very file by this transformers."""
    record = model_dir / RECORD
    if not record.is_file() or not (model_dir / "model.safetensors").is_file():
        return False
    try:
        saved = json.loads(record.read_text(encoding="utf-8"))
    except json.JSONDecodeError:
        return False
    want = _record(gguf_path, sha256)
    return all(saved.get(k) == want[k] for k in ("format", "sha256", "transformers"))


def import_gguf(gguf_path: str | Path, out_dir: str | Path, sha256: str | None = None) -> Path:
    """Converts `gguf_path` into the Hugging Face directory `out_dir` (replaced atomically)."""
    gguf_path, out_dir = Path(gguf_path), Path(out_dir)
    if not gguf_path.is_file():
        raise GgufImportError(f"Cannot import {gguf_path}: no such file")
    sha256 = sha256 or file_sha256(gguf_path)
    out_dir.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(dir=out_dir.parent, prefix=f".{out_dir.name}.", suffix=".tmp"))
    try:
        _convert(gguf_path, tmp)
        tmp.chmod(0o755)  # mkdtemp's 0700 would hide the model from other users of a shared cache
        write_text_atomic(tmp / RECORD, json.dumps(_record(gguf_path, sha256), indent=2, sort_keys=True) + "\n")
        (tmp / RECORD).chmod(0o644)
        replace_dir(tmp, out_dir)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return out_dir


def cached_import(gguf_path: str | Path, cache_dir: str | Path) -> tuple[Path, str, bool]:
    """The converted directory of `gguf_path` under `cache_dir` (converting it on first use).

    Returns (model_dir, sha256 of the file, whether this call converted it).
    """
    gguf_path = Path(gguf_path)
    if not gguf_path.is_file():
        raise GgufImportError(f"Cannot import {gguf_path}: no such file")
    sha256 = file_sha256(gguf_path)
    model_dir = Path(cache_dir) / sha256[:16]
    if is_current(model_dir, gguf_path, sha256):
        return model_dir, sha256, False
    return import_gguf(gguf_path, model_dir, sha256), sha256, True


def _convert(gguf_path: Path, out: Path) -> None:
    import torch
    from transformers import AutoConfig, AutoModelForCausalLM, AutoTokenizer, GenerationConfig
    from transformers.modeling_gguf_pytorch_utils import load_gguf_checkpoint
    from transformers.utils import logging as hf_logging

    # Progress bars would bury the stderr tail the client keeps for error reports.
    hf_logging.disable_progress_bar()
    folder, name = str(gguf_path.parent), gguf_path.name
    try:
        config = AutoConfig.from_pretrained(folder, gguf_file=name)
        tokenizer = AutoTokenizer.from_pretrained(folder, gguf_file=name)
    except Exception as e:  # transformers raises ValueError, KeyError, struct errors... for unreadable files
        raise GgufImportError(f"Cannot import {gguf_path}: transformers cannot read it ({type(e).__name__}: {e})") from e
    # The config must describe a plain float32 model: no quantization, no machine path.
    for key in ("quantization_config", "_name_or_path", "_model_name_or_path"):
        if hasattr(config, key):
            delattr(config, key)
    config.dtype = "float32"
    try:
        with torch.device("meta"):
            model = AutoModelForCausalLM.from_config(config, dtype=torch.float32)
    except ValueError as e:
        raise GgufImportError(f"Cannot import {gguf_path}: {config.model_type} is not a causal language model ({e})") from e
    config.architectures = [type(model).__name__]
    try:
        tensors = load_gguf_checkpoint(str(gguf_path), return_tensors=True, model_to_load=model,
                                       torch_dtype=torch.float32)["tensors"]
    except Exception as e:
        raise GgufImportError(f"Cannot import {gguf_path}: its tensors cannot be read ({type(e).__name__}: {e})") from e
    state = {k: (v if torch.is_tensor(v) else torch.from_numpy(v)).to(torch.float32).contiguous() for k, v in tensors.items()}
    del tensors
    missing, unexpected = model.load_state_dict(state, strict=False, assign=True)
    tied = {"lm_head.weight"} if getattr(config, "tie_word_embeddings", False) else set()
    if set(missing) - tied or unexpected:
        raise GgufImportError(
            f"Cannot import {gguf_path}: its tensors do not fit a {type(model).__name__} "
            f"(missing {sorted(set(missing) - tied)[:5]}, unexpected {sorted(unexpected)[:5]})"
        )
    if tied:
        model.tie_weights()
    model.generation_config = GenerationConfig.from_model_config(config)
    model.save_pretrained(str(out))
    tokenizer.save_pretrained(str(out))


def main(argv: list[str]) -> int:
    if len(argv) != 2:
        print("usage: python -m cdpo_trainer.models.gguf_import FILE.gguf OUT_DIR", flush=True)
        return 2
    try:
        print(import_gguf(argv[0], argv[1]))
    except GgufImportError as e:
        print(e)
        return 1
    return 0


if __name__ == "__main__":
    import sys

    sys.exit(main(sys.argv[1:]))
