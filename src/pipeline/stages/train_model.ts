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

/** The trainer modules behind the `sft` and `preference` ops (for stage keys). */
export const TRAINING_MODULES = ["cdpo_trainer.train.ops"];

/**
 * Runs a trainer op (`sft` or `preference`) with `params` for stage `stage` and installs its model
 * at `modelDir`; the training metrics go to the stage's metrics file (run paths' stageMetrics).
 */
export async function trainModel(
  ctx: PipelineContext,
  stage: string,
  op: "sft" | "preference",
  params: Record<string, unknown>,
  modelDir: string,
  label: string,
): Promise<void> {
  const dataPath = String(params.data_path ?? params.pairs_path);
  if ((await Deno.readTextFile(dataPath)).trim() === "") {
    throw new Error(
      `Cannot train ${label}: ${dataPath} is empty (no training problem gave the samples it needs; ` +
        "sample more per problem, more problems, or at another temperature)",
    );
  }
  // The start model is named now if damaged, not after the trainer has spent minutes on it.
  await ctx.checkModel(String(params.model_dir));
  // Training needs the memory an open model holds (a vLLM server keeps most of a GPU); the
  // stages that read a model open it again.
  await ctx.closeModels();
  const trainer = await ctx.trainer();
  const steps = Number(params.steps);
  ctx.progress.start(label, steps);
  const outDir = join(ctx.run.stageWork(stage), "train");
  const result = await trainer.request(op, { ...params, out_dir: outDir }, {
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
  await copy(String(result.metrics_path), ctx.run.stageMetrics(stage));
  if (params.export_onnx && !existsSync(join(modelDir, "model.onnx"))) {
    throw new Error(`Cannot find model.onnx in ${modelDir} after ${label}`);
  }
}

function lossOf(e: Record<string, unknown>): string {
  return typeof e.loss === "number" ? e.loss.toFixed(4) : "?";
}
