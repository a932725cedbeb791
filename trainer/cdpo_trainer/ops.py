"""The table of ops the trainer serves; each op module registers its functions here."""

from __future__ import annotations

import platform
import time
from typing import Any

from . import protocol
from .params import get


def hello(params: dict[str, Any], emit) -> dict[str, Any]:
    import torch
    import transformers

    if torch.cuda.is_available():
        device = f"cuda ({torch.cuda.get_device_name(0)})"
    else:
        device = "cpu"
    return {
        "protocol": protocol.PROTOCOL_VERSION,
        "python": platform.python_version(),
        "torch": torch.__version__,
        "transformers": transformers.__version__,
        "device": device,
        "cuda": torch.cuda.is_available(),
    }


def sleep(params: dict[str, Any], emit) -> dict[str, Any]:
    """Emits `steps` progress events `seconds` apart; exists for testing streaming and cancellation."""
    steps = get(params, "steps", int)
    seconds = get(params, "seconds", float)
    for i in range(steps):
        time.sleep(seconds)
        emit("progress", done=i + 1, total=steps)
    return {"steps": steps}


def crash(params: dict[str, Any], emit) -> dict[str, Any]:
    """Exits the process abruptly with `code`; exists for testing the client's crash handling."""
    import os
    import sys

    sys.stderr.write(get(params, "stderr", str, "crashing on request\n"))
    sys.stderr.flush()
    os._exit(get(params, "code", int, 3))


def shutdown(params: dict[str, Any], emit) -> dict[str, Any]:
    return {}


def all_ops() -> dict[str, Any]:
    ops: dict[str, Any] = {"hello": hello, "sleep": sleep, "crash": crash, "shutdown": shutdown}
    # Later capabilities register here as they are added (kept explicit so the table reads top to bottom).
    for module_name in _OP_MODULES:
        module = __import__(f"cdpo_trainer.{module_name}", fromlist=["OPS"])
        ops.update(module.OPS)
    return ops


# Modules that export an OPS dict of op name -> function.
_OP_MODULES: list[str] = ["world_ops", "train_ops", "lm_ops"]
