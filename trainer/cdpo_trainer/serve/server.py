"""The trainer's main loop: read a request line, dispatch it to its op, write answers as JSON Lines.

Requests are served one at a time, in order. An op is a function (params, emit) -> dict; `emit`
sends progress/metric/checkpoint events for the current request.
"""

from __future__ import annotations

import ctypes
import signal
import sys
import threading
import traceback
from typing import Any, Callable

from cdpo_trainer.serve import protocol
from cdpo_trainer.serve.params import ParamError

Emit = Callable[..., None]
Op = Callable[[dict[str, Any], Emit], dict[str, Any]]


class Server:
    def __init__(self, ops: dict[str, Op], out=None):
        self.ops = ops
        self.out = out if out is not None else sys.stdout
        self._lock = threading.Lock()

    def write(self, line: str) -> None:
        with self._lock:
            self.out.write(line + "\n")
            self.out.flush()

    def handle_line(self, line: str) -> bool:
        """Serves one request line. Returns False when the server should stop."""
        try:
            req = protocol.parse_request(line)
        except protocol.ProtocolError as e:
            self.write(protocol.error(None, "protocol", str(e)))
            return True
        op = self.ops.get(req.op)
        if op is None:
            known = ", ".join(sorted(self.ops))
            self.write(protocol.error(req.id, "unknown_op", f"unknown op '{req.op}' (known: {known})"))
            return True

        def emit(type_: str, **fields: Any) -> None:
            self.write(protocol.event(req.id, type_, **fields))

        try:
            value = op(req.params, emit)
        except (ParamError, ValueError, FileNotFoundError) as e:
            self.write(protocol.error(req.id, "bad_input", str(e), traceback.format_exc()))
            return True
        except Exception as e:  # noqa: BLE001 - every failure must reach the client as a message
            self.write(protocol.error(req.id, "internal", f"{type(e).__name__}: {e}", traceback.format_exc()))
            return True
        self.write(protocol.result(req.id, value))
        return req.op != "shutdown"

    def serve(self, lines) -> None:
        for line in lines:
            if line.strip() and not self.handle_line(line):
                return


def die_with_parent() -> None:
    """Asks Linux to kill this process when its parent dies, so no trainer outlives the kit."""
    if sys.platform.startswith("linux"):
        try:
            libc = ctypes.CDLL("libc.so.6", use_errno=True)
            PR_SET_PDEATHSIG = 1
            libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
        except OSError:
            pass
