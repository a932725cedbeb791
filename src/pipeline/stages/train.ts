/**
 * Stages `train:<method>:s<seed>` (method.md section 4): every method of the run fitted with one
 * budget (steps, batch size) through the trainer, as the method table says (src/method/methods.ts:
 * objective, start model, data, hyper-parameters). The reference model is the start model, frozen.
 *
 * @module
 */
import { methodSpec } from "../../method/methods.ts";
import type { PipelineContext } from "../context.ts";
import type { StageSpec } from "../stage.ts";
import { methodRequest, trainedName } from "../train_params.ts";
import { TRAINING_MODULES, trainModel } from "./train_model.ts";

/** The stage name of one (method, seed). */
export function trainStageName(method: string, seed: number): string {
  return `train:${method}:s${seed}`;
}

/** The stage that writes a method's training data. */
const DATA_STAGE = {
  positive: "sample",
  correct: "sample",
  pairs: "sample",
  pairs_weighted: "ce_scores",
} as const;

/** The stages that train `method` for every configured seed. */
export function trainStages(ctx: PipelineContext, method: string): StageSpec[] {
  const spec = methodSpec(method);
  return ctx.config.training.seeds.map((seed) => {
    const modelDir = ctx.run.model(trainedName(method, seed));
    const { op, params } = methodRequest(ctx.config, ctx.run, ctx.policy.dir, method, seed);
    // Paths are left out of the stage's inputs: a run directory may be moved or copied.
    const {
      model_dir: _start,
      data_path: _data,
      pairs_path: _pairs,
      eval_pairs_path: _eval,
      ...settings
    } = params;
    return {
      name: trainStageName(method, seed),
      inputs: { method, data: spec.data, settings, policy: ctx.policy.hash },
      after: [
        DATA_STAGE[spec.data],
        // The held-out pairs' critical tokens come from the contrastive scores.
        ...(params.eval_pairs_path ? ["ce_scores"] : []),
        ...(spec.startsFrom === "sft" ? [trainStageName("sft", seed)] : []),
      ],
      code: [import.meta.url],
      trainer: TRAINING_MODULES,
      outputs: [modelDir],
      run: async () => {
        const stage = trainStageName(method, seed);
        await trainModel(ctx, stage, op, params, modelDir, `train: ${trainedName(method, seed)}`);
      },
    };
  });
}
