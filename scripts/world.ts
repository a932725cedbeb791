/**
 * `deno task world`: builds the embedded world (corpus, tokenizer, tiny policy) for a preset,
 * cached by the hash of its config, and prints where the policy is and how it was obtained.
 * `--ship` copies the built policy into data/policy/ (the shipped default). `--diagnose` then
 * measures the world's own diagnostics on its validation problems (src/pipeline/world_diagnostics.ts):
 * greedy accuracy by trigger verb, and the first errors of sampled trajectories by kind.
 *
 *   deno task world [--preset default|FILE.json] [--ship] [--diagnose]
 */
import { runCli } from "../src/cli/main.ts";
import { loadRunConfig } from "../src/run/config.ts";
import { buildWorld, SHIPPED_POLICY_DIR } from "../src/pipeline/world_build.ts";
import { ConsoleProgress } from "../src/pipeline/progress.ts";
import { Trainer } from "../src/trainer/client.ts";
import { copy } from "../src/io/copy.ts";
import { loadProblems } from "../src/pipeline/problems.ts";
import { loadLanguageModel } from "../src/lm/mod.ts";
import type { WorldProblem } from "../src/tasks/world/problem.ts";
import { diagnoseWorld, diagnosticsLines } from "../src/pipeline/world_diagnostics.ts";

/** Samples per validation problem for --diagnose (300 problems x 8: about 2,400 trajectories). */
const DIAGNOSTIC_SAMPLES = 8;

await runCli({
  name: "world",
  usage: "usage: deno task world [--preset default|FILE.json] [--ship] [--diagnose]",
  options: {
    preset: { type: "string", default: "default" },
    ship: { type: "boolean", default: false },
    diagnose: { type: "boolean", default: false },
  },
}, async (values) => {
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
    if (values.diagnose) {
      const { task, validation } = await loadProblems(config, world.splits);
      const lm = await loadLanguageModel(world.policyDir, { backend: "ort" });
      const { temperature, topP, maxNewTokens } = config.sampling;
      const diagnostics = await diagnoseWorld(lm, task, validation as WorldProblem[], {
        temperature,
        topP,
        maxNewTokens,
        perProblem: DIAGNOSTIC_SAMPLES,
        seed: config.seed,
      });
      for (const line of diagnosticsLines(diagnostics)) console.log(line);
    }
  } finally {
    if (holder.trainer) await (await holder.trainer).close();
  }
});
