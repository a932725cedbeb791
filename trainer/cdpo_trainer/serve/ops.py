"""The table of ops the trainer serves in production, read top to bottom.

Each concern exports an OPS dict (op name -> function(params, emit) -> dict); the table is their
union plus `hello` and `shutdown`. Ops that exist only for tests (sleep, crash) live in
test_ops.py and are served only when the process is started with `--test-ops`.
"""

from __future__ import annotations

import platform
from typing import Any

from cdpo_trainer.grading.ops import OPS as GRADING_OPS
from cdpo_trainer.lm.ops import OPS as LM_OPS
from cdpo_trainer.models.ops import OPS as MODEL_OPS
from cdpo_trainer.serve import protocol
from cdpo_trainer.train.distributed import world
from cdpo_trainer.train.ops import OPS as TRAIN_OPS
from cdpo_trainer.world.ops import OPS as WORLD_OPS


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
        "ranks": world().size,  # > 1 when started from an accelerate config (train/distributed.py)
    }


def shutdown(params: dict[str, Any], emit) -> dict[str, Any]:
    return {}


def production_ops() -> dict[str, Any]:
    return {"hello": hello, "shutdown": shutdown, **WORLD_OPS, **TRAIN_OPS, **LM_OPS, **MODEL_OPS, **GRADING_OPS}
