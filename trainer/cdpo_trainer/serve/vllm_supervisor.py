"""Runs one vLLM OpenAI-compatible server so that it never outlives the kit.

Started by src/lm/vllm_server.ts with the vLLM environment's interpreter (it imports only the
standard library, so it needs neither torch nor the trainer package):

    python vllm_supervisor.py --log FILE -- <arguments of vllm.entrypoints.openai.api_server>

vLLM's API server starts an engine process of its own, and a killed API server can leave that
engine holding gigabytes. So the server runs in a new session (its own process group) and every
way this supervisor ends takes the whole group with it:
  * the kit closes our stdin (its `stop()`), or dies: the pipe then reads EOF;
  * SIGTERM or SIGINT;
  * the parent dies abruptly: Linux sends us SIGTERM (PR_SET_PDEATHSIG);
  * the server exits by itself: what it left behind in its group is killed.
The first line on stdout is {"pgid": N} so the kit can kill the group itself as a last resort.
"""

from __future__ import annotations

import argparse
import ctypes
import json
import os
import signal
import subprocess
import sys
import threading
import time

GRACE_S = 15.0


def _ask_for_sigterm_when_parent_dies() -> None:
    if sys.platform.startswith("linux"):
        try:
            libc = ctypes.CDLL("libc.so.6", use_errno=True)
            libc.prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG
        except OSError:
            pass


def _group_alive(pgid: int) -> bool:
    try:
        os.killpg(pgid, 0)
        return True
    except ProcessLookupError:
        return False
    except PermissionError:
        return True


def stop_group(child: subprocess.Popen, pgid: int) -> None:
    """SIGTERM to the group, up to GRACE_S for a clean exit, then SIGKILL to whatever is left."""
    for sig, wait in ((signal.SIGTERM, GRACE_S), (signal.SIGKILL, 5.0)):
        try:
            os.killpg(pgid, sig)
        except ProcessLookupError:
            break
        deadline = time.monotonic() + wait
        while time.monotonic() < deadline:
            child.poll()  # reaps the direct child; its own children are reaped by init
            if not _group_alive(pgid):
                return
            time.sleep(0.1)


def main(argv: list[str]) -> int:
    if "--" not in argv:
        print("vllm_supervisor: usage: --log FILE -- <server arguments>", file=sys.stderr)
        return 2
    split = argv.index("--")
    ap = argparse.ArgumentParser()
    ap.add_argument("--log", required=True)
    args = ap.parse_args(argv[:split])
    server_args = argv[split + 1 :]
    _ask_for_sigterm_when_parent_dies()

    log = open(args.log, "ab", buffering=0)
    child = subprocess.Popen(
        [sys.executable, "-m", "vllm.entrypoints.openai.api_server", *server_args],
        stdin=subprocess.DEVNULL,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    pgid = child.pid  # a new session's leader: its pid is the group id
    sys.stdout.write(json.dumps({"pgid": pgid}) + "\n")
    sys.stdout.flush()

    stop = threading.Event()

    def on_signal(signum, frame):  # noqa: ARG001
        stop.set()

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)

    def watch_stdin() -> None:
        # os.read, not sys.stdin: a buffered reader held by a daemon thread aborts the interpreter
        # at shutdown.
        try:
            while os.read(0, 4096):
                pass
        except OSError:
            pass
        stop.set()

    threading.Thread(target=watch_stdin, daemon=True).start()
    while not stop.is_set() and child.poll() is None:
        stop.wait(0.2)
    code = child.poll()
    stop_group(child, pgid)
    child.wait()
    return code if code is not None else 0


if __name__ == "__main__":
    code = main(sys.argv[1:])
    sys.stdout.flush()
    os._exit(code)  # no interpreter shutdown: the stdin thread may still be blocked in read
