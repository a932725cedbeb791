"""Ops that exist only to test the client: streaming, cancellation and crash handling.

Served only when the trainer is started with `--test-ops` (the Deno tests do that); a production
trainer answers them with `unknown_op`.
"""

from __future__ import annotations

import os
import sys
import time
from typing import Any

from cdpo_trainer.serve.params import get


def sleep(params: dict[str, Any], emit) -> dict[str, Any]:
    """Emits `steps` progress events `seconds` apart."""
    steps = get(params, "steps", int)
    seconds = get(params, "seconds", float)
    for i in range(steps):
        time.sleep(seconds)
        emit("progress", done=i + 1, total=steps)
    return {"steps": steps}


def crash(params: dict[str, Any], emit) -> dict[str, Any]:
    """Exits the process abruptly with `code`, after writing `stderr`."""
    sys.stderr.write(get(params, "stderr", str))
    sys.stderr.flush()
    os._exit(get(params, "code", int))


OPS: dict = {"sleep": sleep, "crash": crash}
