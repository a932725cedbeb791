"""The trainer's wire protocol, defined once on the Python side (src/trainer/protocol.ts is its twin).

Requests arrive on stdin, one JSON object per line:
    {"v": 1, "id": <int>, "op": <str>, "params": {...}}
Every answer goes to stdout as one JSON object per line, tagged with the request id:
    {"v": 1, "id": <int>, "type": "progress" | "metric" | "checkpoint" | "log", ...}   zero or more events
    {"v": 1, "id": <int>, "type": "result", "result": {...}}                        exactly one, or
    {"v": 1, "id": <int>, "type": "error", "error": {"kind", "message", "traceback"}}
stderr is free-form log; the client keeps its tail for error reports.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

PROTOCOL_VERSION = 1
EVENT_TYPES = ("progress", "metric", "checkpoint", "log")
FINAL_TYPES = ("result", "error")


class ProtocolError(ValueError):
    """A request line that is not a valid protocol message."""


@dataclass(frozen=True)
class Request:
    id: int
    op: str
    params: dict[str, Any]


def parse_request(line: str) -> Request:
    """Validates one request line; raises ProtocolError naming the offending field."""
    try:
        msg = json.loads(line)
    except json.JSONDecodeError as e:
        raise ProtocolError(f"Cannot parse request: invalid JSON ({e.msg} at column {e.colno})") from e
    if not isinstance(msg, dict):
        raise ProtocolError("Cannot parse request: expected a JSON object")
    if msg.get("v") != PROTOCOL_VERSION:
        raise ProtocolError(f"Cannot parse request: field 'v' is {msg.get('v')!r}, expected {PROTOCOL_VERSION}")
    rid = msg.get("id")
    if not isinstance(rid, int) or isinstance(rid, bool) or rid < 0:
        raise ProtocolError(f"Cannot parse request: field 'id' is {rid!r}, expected a non-negative integer")
    op = msg.get("op")
    if not isinstance(op, str) or not op:
        raise ProtocolError(f"Cannot parse request: field 'op' is {op!r}, expected a non-empty string")
    params = msg.get("params", {})
    if not isinstance(params, dict):
        raise ProtocolError("Cannot parse request: field 'params' must be an object")
    return Request(id=rid, op=op, params=params)


def event(rid: int, type_: str, **fields: Any) -> str:
    if type_ not in EVENT_TYPES:
        raise ValueError(f"unknown event type {type_!r}")
    return _line({"v": PROTOCOL_VERSION, "id": rid, "type": type_, **fields})


def result(rid: int, value: dict[str, Any]) -> str:
    return _line({"v": PROTOCOL_VERSION, "id": rid, "type": "result", "result": value})


def error(rid: int | None, kind: str, message: str, traceback: str = "") -> str:
    body = {"kind": kind, "message": message, "traceback": traceback}
    return _line({"v": PROTOCOL_VERSION, "id": rid, "type": "error", "error": body})


def _line(msg: dict[str, Any]) -> str:
    # allow_nan=False: a NaN would make the line invalid JSON for the client.
    return json.dumps(msg, separators=(",", ":"), allow_nan=False)
