// The TypeScript side of the protocol, against the cases shared with trainer/tests/test_protocol.py.
import assert from "node:assert/strict";
import {
  encodeRequest,
  MalformedMessageError,
  parseMessage,
  PROTOCOL_VERSION,
} from "../src/trainer/protocol.ts";
import cases from "../trainer/tests/protocol_cases.json" with { type: "json" };

Deno.test("messages the Python encoders write are accepted with their type", () => {
  for (const c of cases.messages.valid) assert.equal(parseMessage(c.line).type, c.type, c.line);
});

Deno.test("invalid messages are rejected naming what is wrong", () => {
  for (const c of cases.messages.invalid) {
    assert.throws(() => parseMessage(c.line), (e: Error) => {
      assert.ok(e instanceof MalformedMessageError, c.line);
      assert.ok(e.message.includes(c.error), `${e.message} should mention ${c.error}`);
      return true;
    });
  }
});

Deno.test("requests encode to the lines the Python parser accepts", () => {
  for (const c of cases.requests.valid) {
    const parsed = JSON.parse(c.line);
    assert.equal(encodeRequest(parsed.id, parsed.op, parsed.params), c.line);
  }
  assert.equal(JSON.parse(encodeRequest(1, "x", {})).v, PROTOCOL_VERSION);
});
