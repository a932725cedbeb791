// The presets for real checkpoints: the paper's values (method.md) and the real-smoke run, as the
// resolver reads them once their machine-specific paths are filled in.
import assert from "node:assert/strict";
import { join } from "node:path";
import { resolveRunConfig } from "../src/run/config.ts";
import { kitPaths } from "../src/paths.ts";

// deno-lint-ignore no-explicit-any -- a preset is untyped JSON until the resolver checks it
type Json = Record<string, any>;

async function preset(name: string, fill: (c: Json) => void = () => {}) {
  const file = join(kitPaths.presets, `${name}.json`);
  const user = JSON.parse(await Deno.readTextFile(file));
  delete user._comment;
  fill(user);
  return resolveRunConfig(user, file);
}

Deno.test("paper presets carry method.md's values for Llama-3-8B", async () => {
  const dir = await Deno.makeTempDir();
  const train = join(dir, "math_train.jsonl");
  await Deno.writeTextFile(train, '{"problem": "1+1?", "answer": "2"}\n');
  try {
    for (
      const [name, temperature, kind] of [["gsm8k", 0.5, "gsm8k"], ["math500", 0.1, "math500"]]
    ) {
      const c = await preset(`paper-llama3-8b-${name}`, (u) => {
        u.policy.path = dir;
        if (kind === "math500") u.task.trainPath = train;
      });
      assert.equal(c.task.kind, kind);
      assert.equal(c.task.prompt, "fewshot");
      assert.equal(c.sampling.perProblem, 64);
      assert.equal(c.sampling.temperature, temperature);
      assert.equal(c.sampling.topP, 0.95);
      assert.deepEqual([c.rollouts.trajectories, c.rollouts.samples], [100, 64]);
      assert.equal(c.contrastive.sftLr, 3e-4);
      // gamma 1.0 for DPO, RPO and cDPO alike; cDPO 4e-5, the baselines 2e-5.
      const h = c.training.hyper;
      assert.deepEqual([h.dpo.beta, h.dpo_sft.beta, h.rpo.beta, h.cdpo.gamma], [1, 1, 1, 1]);
      assert.deepEqual(
        [h.cdpo.lr, h.dpo.lr, h.dpo_sft.lr, h.tokendpo.lr, h.rpo.lr, h.sft.lr],
        [4e-5, 2e-5, 2e-5, 2e-5, 2e-5, 2e-5],
      );
      assert.equal(c.training.lora.rank, 16);
      assert.equal(c.policy.backend, "torch");
      // The shipped test split, read from the kit's folder.
      assert.ok(c.task.testPath!.startsWith(join(kitPaths.data, "datasets")));
    }
    // As shipped, the MATH preset names a train file the user must supply: refused by key.
    await assert.rejects(
      preset("paper-llama3-8b-math500", (u) => u.policy.path = dir),
      /task\.trainPath.*MATH's train split is not shipped/,
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
