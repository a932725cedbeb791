"""Checkpoints: `<out_dir>/checkpoints/step-<N>/`, written atomically, enough to resume bit-exactly.

A checkpoint directory holds what resuming needs, and nothing else (no ONNX export, no tokenizer):
    config.json, model.safetensors   full fine-tuning only: the weights (resume loads them)
    trainable.safetensors   LoRA only: the adapter tensors by parameter name (resume rebuilds the
                            base from the start model and loads these; a merged copy would be the
                            size of the whole model per checkpoint)
    optimizer.safetensors   AdamW's per-parameter tensors, keyed "<param index>.<name>"
    rng.safetensors         torch's CPU (and CUDA) generator states
    cdpo_checkpoint.json    step, config identity, data/model hashes, AdamW's param groups;
                            written last, so its presence marks a complete checkpoint
No pickle: tensors go to safetensors, everything else to JSON. The data order needs no state
(batching.step_indices is a pure function of seed and step) and the learning rate is a pure
function of the step (loop.lr_at), so those are not stored.

Atomicity: everything is written into `checkpoints/.tmp-step-<N>-<pid>/` and renamed to
`step-<N>` at the end; a crash mid-write leaves a temp directory that is ignored and cleaned up.
Only the newest complete checkpoint is kept: an older one is deleted once a newer one is in place.
"""

from __future__ import annotations

import json
import os
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
from safetensors.torch import load_file, save_file


META_FILE = "cdpo_checkpoint.json"
FORMAT_VERSION = 1


@dataclass(frozen=True)
class Checkpoint:
    path: Path
    step: int
    meta: dict[str, Any]


def checkpoints_dir(out_dir: str | Path) -> Path:
    return Path(out_dir) / "checkpoints"


def latest(out_dir: str | Path) -> Checkpoint | None:
    """The complete checkpoint with the highest step, or None."""
    root = checkpoints_dir(out_dir)
    best: Checkpoint | None = None
    if not root.is_dir():
        return None
    for d in root.iterdir():
        if not d.name.startswith("step-") or not (d / META_FILE).is_file():
            continue
        meta = json.loads((d / META_FILE).read_text(encoding="utf-8"))
        if best is None or meta["step"] > best.step:
            best = Checkpoint(d, int(meta["step"]), meta)
    return best


def remove_temp_dirs(out_dir: str | Path) -> None:
    root = checkpoints_dir(out_dir)
    if root.is_dir():
        for d in root.iterdir():
            if d.name.startswith(".tmp-"):
                shutil.rmtree(d, ignore_errors=True)


def _optimizer_tensors(optimizer: torch.optim.Optimizer) -> tuple[dict[str, torch.Tensor], list[dict[str, Any]]]:
    state = optimizer.state_dict()
    tensors = {}
    for index, per_param in state["state"].items():
        for name, value in per_param.items():
            t = value if torch.is_tensor(value) else torch.tensor(value)
            tensors[f"{index}.{name}"] = t.detach().cpu().contiguous()
    return tensors, state["param_groups"]


def save(
    out_dir: str | Path,
    step: int,
    model,
    is_lora: bool,
    trainable: list[tuple[str, torch.nn.Parameter]],
    optimizer: torch.optim.Optimizer,
    meta: dict[str, Any],
) -> Path:
    """Writes checkpoint `step` atomically and deletes the older ones; returns its final path."""
    root = checkpoints_dir(out_dir)
    root.mkdir(parents=True, exist_ok=True)
    tmp = root / f".tmp-step-{step}-{os.getpid()}"
    if tmp.exists():
        shutil.rmtree(tmp)
    tmp.mkdir()
    if is_lora:
        save_file({name: p.detach().cpu().contiguous() for name, p in trainable}, str(tmp / "trainable.safetensors"))
    else:
        model.save_pretrained(str(tmp))
    opt_tensors, param_groups = _optimizer_tensors(optimizer)
    save_file(opt_tensors, str(tmp / "optimizer.safetensors"))
    rng = {"cpu": torch.get_rng_state()}
    if torch.cuda.is_available():
        for i, s in enumerate(torch.cuda.get_rng_state_all()):
            rng[f"cuda.{i}"] = s
    save_file(rng, str(tmp / "rng.safetensors"))
    body = {"format": FORMAT_VERSION, "step": step, **meta, "optimizer_param_groups": param_groups}
    (tmp / META_FILE).write_text(json.dumps(body, indent=2, sort_keys=True), encoding="utf-8")
    final = root / f"step-{step}"
    if final.exists():
        shutil.rmtree(final)
    os.rename(tmp, final)
    for d in root.iterdir():  # resume needs only the newest
        if d.name.startswith("step-") and d != final:
            shutil.rmtree(d, ignore_errors=True)
    return final


def restore(
    ckpt: Checkpoint,
    model,
    is_lora: bool,
    trainable: list[tuple[str, torch.nn.Parameter]],
    optimizer: torch.optim.Optimizer,
) -> None:
    """Loads adapter weights (LoRA; full fine-tuning loads the HF dir itself), optimizer and RNG state."""
    if is_lora:
        saved = load_file(str(ckpt.path / "trainable.safetensors"))
        names = {name for name, _ in trainable}
        if set(saved) != names:
            raise ValueError(f"Cannot resume from {ckpt.path}: its adapter tensors do not match the model's LoRA parameters")
        with torch.no_grad():
            for name, p in trainable:
                p.copy_(saved[name].to(p.device, p.dtype))
    tensors = load_file(str(ckpt.path / "optimizer.safetensors"))
    state: dict[int, dict[str, torch.Tensor]] = {}
    for key, t in tensors.items():
        index, name = key.split(".", 1)
        state.setdefault(int(index), {})[name] = t
    optimizer.load_state_dict({"state": state, "param_groups": ckpt.meta["optimizer_param_groups"]})
    rng = load_file(str(ckpt.path / "rng.safetensors"))
    torch.set_rng_state(rng["cpu"])
    if torch.cuda.is_available():
        cuda = [rng[k] for k in sorted(k for k in rng if k.startswith("cuda."))]
        if cuda:
            torch.cuda.set_rng_state_all(cuda)
