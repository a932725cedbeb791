/**
 * Stages `train:<method>:s<seed>` (method.md section 4): every compared method fitted with one
 * budget (steps, batch size) through the trainer. Start points follow the paper: SFT, TokenDPO
 * and `dpo_sft` start from the SFT model; DPO, RPO and cDPO from the base policy. The reference
 * model is the start model, frozen.
 *
 * @module
 */
import type { PipelineContext } from "../context.ts";
import type { StageSpec } from "../stage.ts";
import { loraParams, weightedPairsPath } from "./contrastive.ts";
import { selectionPaths } from "./sample.ts";
import { trainModel } from "./train_model.ts";

/** The name of a trained model in models/ and in tables. */
export function trainedName(method: string, seed: number): string {
  return `${method}-s${seed}`;
}

/** The stage name of one (method, seed). */
export function trainStageName(method: string, seed: number): string {
  return `train:${method}:s${seed}`;
}

/** Which stage's model a method starts from (null: the base policy). */
function startsFrom(method: string): string | null {
  return method === "dpo_sft" || method === "tokendpo" ? "sft" : null;
}

/** The trainer request that fits `method` with `seed`: its op and its params (start model included). */
export function trainRequest(
  ctx: PipelineContext,
  method: string,
  seed: number,
): { op: "sft" | "preference"; params: Record<string, unknown> } {
  const t = ctx.config.training;
  const start = startsFrom(method);
  const common = {
    model_dir: start ? ctx.run.model(trainedName(start, seed)) : ctx.policy.dir,
    steps: t.steps,
    batch_size: t.batchSize,
    seed,
    ...loraParams(ctx),
  };
  if (method === "sft") {
    return {
      op: "sft",
      params: { ...common, data_path: selectionPaths(ctx).positive, lr: t.sftLr },
    };
  }
  return {
    op: "preference",
    params: {
      ...common,
      lr: method === "cdpo" ? t.cdpoLr ?? t.lr : t.lr,
      pairs_path: method === "cdpo" ? weightedPairsPath(ctx) : selectionPaths(ctx).pairs,
      ...(method === "cdpo"
        ? { objective: "cdpo", beta: t.gamma, cdpo_form: t.cdpoForm }
        : method === "rpo"
        ? { objective: "rpo", beta: t.beta, alpha: t.rpoAlpha }
        : method === "tokendpo"
        ? { objective: t.tdpo, tdpo_beta: t.tdpoBeta }
        : { objective: "dpo", beta: t.beta }),
    },
  };
}

/** The stages that train `method` for every configured seed. */
export function trainStages(ctx: PipelineContext, method: string): StageSpec[] {
  return ctx.config.training.seeds.map((seed) => {
    const start = startsFrom(method);
    const modelDir = ctx.run.model(trainedName(method, seed));
    const { op, params } = trainRequest(ctx, method, seed);
    // Paths are left out of the stage's inputs: a run directory may be moved or copied.
    const { model_dir: _start, data_path: _data, pairs_path: _pairs, ...settings } = params;
    const data = method === "sft" ? "sft_pos" : method === "cdpo" ? "pairs_weighted" : "pairs";
    return {
      name: trainStageName(method, seed),
      inputs: { method, data, settings, policy: ctx.policy.hash },
      after: [
        "sample",
        ...(method === "cdpo" ? ["ce_scores"] : []),
        ...(start ? [trainStageName(start, seed)] : []),
      ],
      outputs: [modelDir],
      run: async (workDir: string) => {
        await trainModel(ctx, op, params, workDir, modelDir, `train: ${trainedName(method, seed)}`);
      },
    };
  });
}
