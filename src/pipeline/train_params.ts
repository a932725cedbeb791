/**
 * The trainer requests of a run, built from its config alone (the one source of defaults: the
 * trainer has none, so every field is sent): the fields every fine-tuning run shares, and the
 * request that fits one method of src/method/methods.ts.
 *
 * @module
 */
import { methodSpec } from "../method/methods.ts";
import type { RunConfig } from "../run/config.ts";
import type { RunPaths } from "../run/paths.ts";

/** Checkpoints per training run: enough for a killed run to lose little, few enough to be cheap. */
export const CHECKPOINTS_PER_RUN = 4;

/** What a fine-tuning request needs besides the run config. */
export interface FineTune {
  modelDir: string;
  lr: number;
  steps: number;
  batchSize: number;
  seed: number;
}

/**
 * The `sft`/`preference` fields every fine-tuning run of `config` shares; `data_path` or
 * `pairs_path`, `out_dir` and (preference) `objective` are the caller's.
 */
export function fineTuneParams(config: RunConfig, run: FineTune): Record<string, unknown> {
  const o = config.training.optimizer;
  const l = config.training.lora;
  return {
    model_dir: run.modelDir,
    lr: run.lr,
    steps: run.steps,
    batch_size: run.batchSize,
    seed: run.seed,
    schedule: o.schedule,
    warmup_steps: o.warmupSteps,
    min_lr_ratio: o.minLrRatio,
    max_grad_norm: o.maxGradNorm,
    weight_decay: o.weightDecay,
    adam_betas: o.adamBetas,
    batching: "random",
    lora: l.rank > 0
      ? { r: l.rank, alpha: l.alpha, dropout: l.dropout, target_modules: l.targetModules }
      : null,
    dtype: config.training.dtype,
    eval_pairs_path: null,
    eval_every: 0,
    checkpoint_every: Math.max(1, Math.ceil(run.steps / CHECKPOINTS_PER_RUN)),
    // The ONNX graphs serve only the in-process backend: other backends never read them.
    export_onnx: config.policy.backend === "ort",
    resume: true,
    ref_cache_dir: null,
    device: config.policy.device,
  };
}

/** The trained model of `method` with `seed` in models/ (and its name in tables). */
export function trainedName(method: string, seed: number): string {
  return `${method}-s${seed}`;
}

/** The trainer request that fits `method` with `seed`: its op and its params, out_dir aside. */
export function methodRequest(
  config: RunConfig,
  run: RunPaths,
  policyDir: string,
  method: string,
  seed: number,
  /** The SFT model methods that start from SFT start from. @default {the run's sft model of `seed`} */
  sftDir: string = run.model(trainedName("sft", seed)),
): { op: "sft" | "preference"; params: Record<string, unknown> } {
  const spec = methodSpec(method);
  const hyper = config.training.hyper[method];
  const params = fineTuneParams(config, {
    modelDir: spec.startsFrom === "sft" ? sftDir : policyDir,
    lr: hyper.lr as number,
    steps: config.training.steps,
    batchSize: config.training.batchSize,
    seed,
  });
  const data = {
    positive: run.sftPositive,
    correct: run.sftCorrect,
    pairs: run.pairs,
    pairs_weighted: run.pairsWeighted,
  }[spec.data];
  if (spec.op === "sft") return { op: "sft", params: { ...params, data_path: data } };
  const heldOut = config.training.heldOutPairs > 0;
  return {
    op: "preference",
    params: {
      ...params,
      pairs_path: data,
      objective: spec.objective!(hyper),
      // Figure 6: the held-out pairs, measured every few steps.
      eval_pairs_path: heldOut ? run.heldOutEval : null,
      eval_every: heldOut ? config.training.evalEvery : 0,
    },
  };
}
