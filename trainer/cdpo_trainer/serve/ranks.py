"""Serving the JSON Lines protocol from several ranks (a trainer started by `accelerate launch`).

Rank 0 alone reads stdin and writes stdout; it broadcasts every request line to the other ranks.
Ops that split their work across ranks (training, scoring, sampling: the ALL_RANKS sets beside
their OPS tables) run on every rank, in the same order, so their collectives pair up; every other
op runs on rank 0 alone. The other ranks' answers and events go nowhere.
"""

from __future__ import annotations

import json
import os
from typing import Iterable

from cdpo_trainer.lm.ops import ALL_RANKS as LM_ALL_RANKS
from cdpo_trainer.serve.server import Server
from cdpo_trainer.train.distributed import World
from cdpo_trainer.train.ops import ALL_RANKS as TRAIN_ALL_RANKS

ALL_RANKS = LM_ALL_RANKS | TRAIN_ALL_RANKS | {"shutdown"}


def _op_of(line: str) -> str | None:
    try:
        msg = json.loads(line)
        return msg.get("op") if isinstance(msg, dict) else None
    except json.JSONDecodeError:
        return None


def serve_ranks(ops: dict, world: World, protocol_out, lines: Iterable[str]) -> None:
    """Serves until stdin closes (rank 0) or a shutdown request; every rank returns together, after
    leaving the process group."""
    _serve(ops, world, protocol_out, lines)
    _leave(world)  # not on an exception: a rank that failed may never reach the barrier


def _leave(world: World) -> None:
    """Tears the process group down on every rank before the interpreter exits.

    Left to interpreter exit, the group's C++ threads are destroyed while still running, which
    aborts the process ("terminate called without an active exception", SIGABRT) in some exits and
    not others; the launcher then reports the whole trainer as failed although every op answered.
    """
    import torch.distributed as dist

    if dist.is_available() and dist.is_initialized():
        world.barrier()  # no rank leaves while another still has a collective in flight
        dist.destroy_process_group()


def _serve(ops: dict, world: World, protocol_out, lines: Iterable[str]) -> None:
    server = Server(ops, out=protocol_out if world.is_main else open(os.devnull, "w"))
    source = iter(lines) if world.is_main else None
    while True:
        line = None
        if source is not None:
            line = next((raw for raw in source if raw.strip()), None)
        line = world.broadcast(line)  # None: stdin closed
        if line is None:
            return
        if world.is_main or _op_of(line) in ALL_RANKS:
            if not server.handle_line(line):
                return
