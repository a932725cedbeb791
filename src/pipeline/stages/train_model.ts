/**
 * Training one model through the trainer process: the op's metric events become progress, the
 * trainer's own checkpoints make the run resumable (its out_dir lives in the stage's work
 * folder, which survives an interruption), and the finished model is moved into models/.
 *
 * @module
 */
import { existsSync } from "node:fs";
import { join } from "node:path";
import { copy } from "../../io/copy.ts";
import type { PipelineContext } from "../context.ts";

/** Runs a trainer op (`sft` or `preference`) and installs its model at `modelDir`. */
export async function trainModel(
  ctx: PipelineContext,
  op: "sft" | "preference",
  params: Record<string, unknown>,
  workDir: string,
  modelDir: string,
  label: string,
): Promise<{ metricsPath: string }> {
  const dataPath = String(params.data_path ?? params.pairs_path);
  if ((await Deno.readTextFile(dataPath)).trim() === "") {
    throw new Error(
      `Cannot train ${label}: ${dataPath} is empty (no training problem gave the samples it needs; ` +
        "sample more per problem, more problems, or at another temperature)",
    );
  }
  const trainer = await ctx.trainer();
  const outDir = join(workDir, "train");
  const steps = typeof params.steps === "number" ? params.steps : 0;
  ctx.progress.start(label, steps);
  const result = await trainer.request(op, {
    ...params,
    out_dir: outDir,
    // Checkpoints let a killed run resume mid-training; a few per run is enough for tiny models.
    checkpoint_every: Math.max(1, Math.ceil(steps / 4)),
    // Only the ort backend runs ONNX: the finished model is exported once, its checkpoints never.
    export_onnx: ctx.config.policy.backend === "ort",
    resume: true,
  }, {
    onEvent: (e) => {
      // Metric events carry the step's loss; progress events only the count.
      if (e.type === "metric") ctx.progress.update(Number(e.step), `loss ${lossOf(e)}`);
    },
  });
  if (typeof result.onnx_error === "string" && result.onnx_error) {
    throw new Error(`Cannot export ${label}'s model to ONNX: ${result.onnx_error}`);
  }
  ctx.progress.finish();
  const trained = String(result.model_dir);
  await Deno.remove(modelDir, { recursive: true }).catch(() => {});
  // Moved, not copied: a real model is gigabytes. A rerun of this stage finds the trainer's
  // newest checkpoint and rebuilds the model from it.
  await Deno.rename(trained, modelDir).catch(() => copy(trained, modelDir));
  const metricsPath = join(workDir, "metrics.jsonl");
  await copy(String(result.metrics_path), metricsPath);
  if (ctx.config.policy.backend === "ort" && !existsSync(join(modelDir, "model.onnx"))) {
    throw new Error(`Cannot find model.onnx in ${modelDir} after ${label}`);
  }
  return { metricsPath };
}

function lossOf(e: Record<string, unknown>): string {
  return typeof e.loss === "number" ? e.loss.toFixed(4) : "?";
}
