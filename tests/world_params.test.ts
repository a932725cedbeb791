import assert from "node:assert/strict";
import { DEFAULT_WORLD_PARAMS, resolveWorldParams } from "../src/tasks/mod.ts";

Deno.test("resolveWorldParams fills every default and keeps given fields", () => {
  const params = resolveWorldParams({ maxSteps: 5, testSize: 7 });
  assert.equal(params.maxSteps, 5);
  assert.equal(params.testSize, 7);
  assert.equal(params.minSteps, 2);
  assert.deepEqual(params.operations, ["add", "subtract", "multiply", "divide"]);
  // An explicit undefined must not erase a default (a config merge can produce one).
  assert.equal(resolveWorldParams({ maxValue: undefined }).maxValue, DEFAULT_WORLD_PARAMS.maxValue);
});

Deno.test("resolveWorldParams rejects bad settings, naming the parameter and its range", () => {
  const cases: [Parameters<typeof resolveWorldParams>[0], RegExp][] = [
    [{ minSteps: 0 }, /minSteps 0 .*\[1, 8\]/],
    [{ maxSteps: 9 }, /maxSteps 9 .*\[1, 8\]/],
    [{ minSteps: 2.5 }, /minSteps 2\.5/],
    [{ minSteps: 4, maxSteps: 3 }, /minSteps 4 is greater than maxSteps 3/],
    [{ testSize: -1 }, /testSize -1 .*integer >= 0/],
    [{ pretrainSize: 1.5 }, /pretrainSize 1\.5/],
    [{ maxValue: 10 }, /maxValue 10 .*\[20, 9999\]/],
    [{ greedyTriggerRate: 1.2 }, /greedyTriggerRate 1\.2 .*\[0, 1\]/],
    [{ carrySlipRate: Number.NaN }, /carrySlipRate NaN/],
    [{ operations: [] }, /operations is empty/],
    [
      { operations: ["add", "modulo" as never] },
      /unknown operation "modulo".*add, subtract, multiply, divide/,
    ],
    [{ operations: ["add", "add"] }, /lists "add" twice/],
    [{ operations: ["multiply", "subtract"] }, /greedyTriggerShare 0\.3 needs operation "add"/],
    [{ operations: ["add", "divide"] }, /samplingTriggerShare 0\.5 needs operation "subtract"/],
  ];
  for (const [options, message] of cases) {
    assert.throws(() => resolveWorldParams(options), (error: unknown) => {
      assert.ok(error instanceof RangeError, `${JSON.stringify(options)} throws a RangeError`);
      assert.match(error.message, /^Cannot resolve world params: /);
      assert.match(error.message, message);
      return true;
    });
  }
});

Deno.test("resolveWorldParams accepts the edges of every range", () => {
  const params = resolveWorldParams({
    minSteps: 1,
    maxSteps: 8,
    maxValue: 20,
    testSize: 0,
    greedyTriggerRate: 0,
    samplingTriggerRate: 1,
    operations: ["multiply", "divide"],
    greedyTriggerShare: 0,
    samplingTriggerShare: 0,
  });
  assert.equal(params.minSteps, 1);
  assert.equal(params.maxSteps, 8);
});
