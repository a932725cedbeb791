/**
 * `deno task world`: builds the embedded world (corpus, tokenizer, tiny policy) for a preset,
 * cached by the hash of its config, and prints where the policy is and how it was obtained.
 * `--ship` copies the built policy into data/policy/ (the shipped default).
 *
 *   deno task world [--preset default|FILE.json] [--ship]
 */
import { parseArgs } from "node:util";
import { loadRunConfig } from "../src/run/config.ts";
import { buildWorld, SHIPPED_POLICY_DIR } from "../src/pipeline/world_build.ts";
import { ConsoleProgress } from "../src/pipeline/progress.ts";
import { Trainer } from "../src/trainer/client.ts";
import { copy } from "../src/io/copy.ts";

const { values } = parseArgs({
  args: Deno.args,
  options: {
    preset: { type: "string", default: "default" },
    ship: { type: "boolean", default: false },
  },
});
const { config } = await loadRunConfig(values.preset!);
const holder = { trainer: null as Promise<Trainer> | null };
const started = performance.now();
try {
  const world = await buildWorld(
    config,
    () => (holder.trainer ??= Trainer.start()),
    new ConsoleProgress(),
  );
  console.log(
    `world ${
      world.key.slice(0, 12)
    }: ${world.splits.pretrain.length} pretraining, ${world.splits.train.length} train, ` +
      `${world.splits.test.length} test problems; policy (${world.origin}) at ${world.policyDir} ` +
      `in ${((performance.now() - started) / 1000).toFixed(1)} s`,
  );
  if (values.ship && world.policyDir !== SHIPPED_POLICY_DIR) {
    await copy(world.policyDir, SHIPPED_POLICY_DIR);
    console.log(`shipped: ${SHIPPED_POLICY_DIR}`);
  }
} finally {
  if (holder.trainer) await (await holder.trainer).close();
}
