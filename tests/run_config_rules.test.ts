// Rules between run-config keys (distinct seeds and methods, ordered step range, whatever the
// world generator refuses), and file:line for every key-level refusal of a config file.
import assert from "node:assert/strict";
import { join } from "node:path";
import { ConfigError } from "../src/config/errors.ts";
import { keyLines } from "../src/config/key_lines.ts";
import { loadRunConfig } from "../src/run/config.ts";
import { isUserCaused } from "../src/errors.ts";

async function refusal(text: string): Promise<{ e: ConfigError; file: string }> {
  const dir = await Deno.makeTempDir();
  const file = join(dir, "cfg.json");
  await Deno.writeTextFile(file, text);
  try {
    await loadRunConfig(file);
  } catch (e) {
    assert.ok(e instanceof ConfigError, String(e));
    assert.ok(isUserCaused(e));
    return { e, file };
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
  throw new Error(`accepted: ${text}`);
}

Deno.test("a repeated training seed is refused at its line (it would halve p-values)", async () => {
  const { e, file } = await refusal('{\n  "training": {\n    "seeds": [0,\n      0]\n  }\n}\n');
  assert.equal(e.key, "training.seeds[1]");
  assert.equal(e.line, 4);
  assert.equal(
    e.message,
    `Cannot use config ${file}:4: key 'training.seeds[1]': 0 repeats training.seeds[0]; ` +
      "expected each value once (a repeated seed counts each result twice and shrinks every p-value)",
  );
});

Deno.test("a repeated method is refused", async () => {
  const { e } = await refusal('{"training": {"methods": ["cdpo", "dpo", "cdpo"]}}');
  assert.equal(e.key, "training.methods[2]");
  assert.equal(e.line, 1);
  assert.match(e.message, /"cdpo" repeats training\.methods\[0\]/);
});

Deno.test("world.minSteps above world.maxSteps names the key the user wrote", async () => {
  const both = await refusal('{\n  "world": {\n    "minSteps": 4,\n    "maxSteps": 3\n  }\n}');
  assert.equal(both.e.key, "world.maxSteps");
  assert.equal(both.e.line, 4);
  assert.match(
    both.e.message,
    /world\.minSteps is 4, greater than world\.maxSteps 3; expected world\.minSteps <= world\.maxSteps, both integers in 1\.\.8$/,
  );
  // maxSteps defaults to 3: the user's own key is the one to change.
  const one = await refusal('{"world": {\n"minSteps": 5}}');
  assert.equal(one.e.key, "world.minSteps");
  assert.equal(one.e.line, 2);
});

Deno.test("single-key refusals of a config file now name its line too", async () => {
  const { e, file } = await refusal('{\n  "sampling": {\n    "temprature": 1\n  }\n}');
  assert.equal(e.line, 3);
  assert.match(
    e.message,
    new RegExp(`^Cannot use config ${file}:3: key 'sampling\\.temprature': unknown key`),
  );
});

Deno.test("key lines: nested objects, arrays, and strings holding braces and quotes", () => {
  const text = '{"a": "}\\"{[",\n "b": {"c": [\n  {"d": 1},\n  [2, {"e": null}]\n ]},\n "f": true}';
  const lines = keyLines(text);
  assert.deepEqual([...lines.entries()], [
    ["a", 1],
    ["b", 2],
    ["b.c", 2],
    ["b.c[0]", 3],
    ["b.c[0].d", 3],
    ["b.c[1]", 4],
    ["b.c[1][0]", 4],
    ["b.c[1][1]", 4],
    ["b.c[1][1].e", 4],
    ["f", 6],
  ]);
  assert.equal(keyLines("{not json").size, 0);
});

Deno.test("every world parameter is a config key: ranges at their line, generator refusals at their key", async () => {
  const rate = await refusal('{\n  "world": {\n    "delayedTrapRate": 1.5\n  }\n}');
  assert.equal(rate.e.key, "world.delayedTrapRate");
  assert.equal(rate.e.line, 3);
  // What only the generator knows (an unknown operation) names the key it is about.
  const ops = await refusal('{"world": {\n  "operations": ["add", "modulo"]\n}}');
  assert.equal(ops.e.key, "world.operations");
  assert.equal(ops.e.line, 2);
  assert.match(ops.e.message, /unknown operation "modulo"/);
  // A trigger verb needs its operation enabled.
  const trigger = await refusal('{"world": {"operations": ["multiply", "divide"]}}');
  assert.equal(trigger.e.key, "world.greedyTriggerShare");
});

Deno.test("the run config's world defaults are the world generator's defaults", async () => {
  const { DEFAULT_WORLD_PARAMS } = await import("../src/tasks/world/params.ts");
  const { DEFAULT_RUN_CONFIG, worldParams } = await import("../src/run/config.ts");
  assert.deepEqual(worldParams(DEFAULT_RUN_CONFIG.world), {
    ...DEFAULT_WORLD_PARAMS,
    operations: [...DEFAULT_WORLD_PARAMS.operations],
  });
});
