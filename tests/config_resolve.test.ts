// The config resolver: defaults as schema, unknown keys, wrong types, ranges, bad JSON positions.
import assert from "node:assert/strict";
import { ConfigError } from "../src/config/errors.ts";
import { parseJsonText } from "../src/config/json_file.ts";
import { resolveConfig } from "../src/config/resolve.ts";

const defaults = {
  seed: 0,
  sampling: { n: 16, temperature: 0.8, backend: "ort" },
  methods: ["dpo", "cdpo"],
  path: null as string | null,
};
const rules = {
  "sampling.n": { kind: "int", min: 1 } as const,
  "sampling.temperature": { kind: "number", min: 0, exclusiveMin: true } as const,
  "sampling.backend": { kind: "enum", values: ["ort", "torch"] } as const,
  path: { kind: "nullableString" } as const,
};

Deno.test("a partial config is filled from the defaults without touching them", () => {
  const resolved = resolveConfig(defaults, { sampling: { n: 4 } }, "user.json", rules);
  assert.deepEqual(resolved, { ...defaults, sampling: { ...defaults.sampling, n: 4 } });
  assert.equal(defaults.sampling.n, 16);
  resolved.methods.push("x");
  assert.deepEqual(defaults.methods, ["dpo", "cdpo"]);
});

function rejects(user: unknown, pattern: RegExp, key: string | null) {
  assert.throws(() => resolveConfig(defaults, user, "runs/x.json", rules), (e: Error) => {
    assert.ok(e instanceof ConfigError);
    assert.equal(e.key, key);
    assert.match(e.message, /runs\/x\.json/);
    assert.match(e.message, pattern);
    return true;
  });
}

Deno.test("unknown keys, wrong types and out-of-range values name the file and the key", () => {
  rejects({ sampling: { temprature: 1 } }, /unknown key.*temperature/, "sampling.temprature");
  rejects({ seed: "1" }, /expected a finite number/, "seed");
  rejects({ sampling: { n: 0 } }, /integer in 1\.\.inf/, "sampling.n");
  rejects({ sampling: { n: 2.5 } }, /integer/, "sampling.n");
  rejects({ sampling: { temperature: 0 } }, /number in \(0, inf\]/, "sampling.temperature");
  rejects({ sampling: { backend: "jax" } }, /one of "ort", "torch"/, "sampling.backend");
  rejects({ methods: ["dpo", 3] }, /a string/, "methods[1]");
  rejects({ path: 3 }, /string or null/, "path");
  rejects({ sampling: 3 }, /an object/, "sampling");
  rejects([1], /an object/, null);
});

Deno.test("bad JSON names file:line:column", () => {
  const text = '{\n  "seed": 1,\n  "sampling": { "n": 4, }\n}';
  assert.throws(() => parseJsonText(text, "cfg.json"), (e: Error) => {
    assert.ok(e instanceof ConfigError);
    // The stray comma's closing brace is on line 3; V8 reports the offending character.
    assert.match(e.message, /cfg\.json:3:\d+/);
    return true;
  });
});
