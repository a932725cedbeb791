"""The Python side of the protocol, against the cases shared with the TypeScript tests."""

from __future__ import annotations

import io
import json
import math
import pathlib

import pytest

from cdpo_trainer.serve import protocol
from cdpo_trainer.serve.server import Server

CASES = json.loads((pathlib.Path(__file__).parent / "protocol_cases.json").read_text())


@pytest.mark.parametrize("case", CASES["requests"]["valid"], ids=lambda c: c["op"])
def test_valid_requests_parse(case):
    req = protocol.parse_request(case["line"])
    assert (req.id, req.op) == (case["id"], case["op"])


@pytest.mark.parametrize("case", CASES["requests"]["invalid"], ids=lambda c: c["line"])
def test_invalid_requests_name_the_field(case):
    with pytest.raises(protocol.ProtocolError, match=case["error"].replace("[", r"\[")):
        protocol.parse_request(case["line"])


def test_encoders_write_exactly_the_shared_lines():
    # The TypeScript tests parse these very lines, so both sides agree on the wire format.
    valid = [c["line"] for c in CASES["messages"]["valid"]]
    assert protocol.event(3, "progress", done=1, total=2) == valid[0]
    assert protocol.event(3, "metric", step=1, loss=0.5) == valid[1]
    assert protocol.result(3, {"steps": 2}) == valid[2]
    assert protocol.error(3, "bad_input", "m") == valid[3]
    assert protocol.error(None, "protocol", "m") == valid[4]


def test_nan_cannot_reach_the_wire():
    with pytest.raises(ValueError):
        protocol.result(1, {"loss": math.nan})


def _serve(ops, *lines):
    out = io.StringIO()
    Server(ops, out=out).serve(lines)
    return [json.loads(line) for line in out.getvalue().splitlines()]


def test_server_answers_each_request_with_events_then_one_result():
    def op(params, emit):
        emit("progress", done=1, total=1)
        return {"x": params["x"] * 2}

    msgs = _serve({"double": op}, '{"v":1,"id":5,"op":"double","params":{"x":21}}\n')
    assert [m["type"] for m in msgs] == ["progress", "result"]
    assert msgs[1] == {"v": 1, "id": 5, "type": "result", "result": {"x": 42}}


def test_server_turns_failures_into_error_messages_and_keeps_serving():
    def bad(params, emit):
        raise ValueError("pair 3: field 'chosen_ids' is empty")

    def boom(params, emit):
        raise RuntimeError("unexpected")

    msgs = _serve(
        {"bad": bad, "boom": boom},
        '{"v":1,"id":1,"op":"bad"}\n',
        "garbage\n",
        '{"v":1,"id":2,"op":"boom"}\n',
        '{"v":1,"id":3,"op":"missing"}\n',
    )
    assert [(m["id"], m["error"]["kind"]) for m in msgs] == [
        (1, "bad_input"),
        (None, "protocol"),
        (2, "internal"),
        (3, "unknown_op"),
    ]
    assert "pair 3" in msgs[0]["error"]["message"]
    assert "RuntimeError: unexpected" in msgs[2]["error"]["message"]
    assert "Traceback" in msgs[2]["error"]["traceback"]
