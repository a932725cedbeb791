// The shipped policy must be the one this code and the default settings build: its world.json
// records the key it was built under, and a change to the trainer's code, the pins, the corpus
// or any setting that shapes it changes the key.
import assert from "node:assert/strict";
import { loadRunConfig } from "../src/run/config.ts";
import {
  recordedKey,
  SHIP_COMMAND,
  SHIPPED_POLICY_DIR,
  worldKey,
} from "../src/pipeline/world_build.ts";

Deno.test("the shipped policy in data/policy was built by this code with the default settings", async () => {
  const { config } = await loadRunConfig("default");
  const { key } = await worldKey(config);
  const recorded = await recordedKey(SHIPPED_POLICY_DIR);
  assert.equal(
    recorded,
    key,
    `data/policy is stale: its world.json records key ${recorded}, but this code and the default ` +
      `settings give ${key}. Rebuild it with \`${SHIP_COMMAND}\` and commit data/policy/.`,
  );
});

Deno.test("the policy's key changes with a model-shape or pretraining setting", async () => {
  const { config } = await loadRunConfig("default");
  const base = (await worldKey(config)).key;
  const wider = structuredClone(config);
  wider.world.model.intermediateSize += 1;
  const warmer = structuredClone(config);
  warmer.world.pretrain.warmupSteps += 1;
  assert.notEqual((await worldKey(wider)).key, base);
  assert.notEqual((await worldKey(warmer)).key, base);
});
