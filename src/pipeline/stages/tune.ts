/**
 * Stages `tune:<method>:<point>` (`deno task tune`): one point of a method's search (its
 * learning rate, and for preference methods its temperature), trained with the run's first seed
 * and step budget exactly as the method's training stage would, then scored by greedy accuracy
 * on the validation problems — carved from the train split and never sampled for training data,
 * so the test split chooses nothing.
 *
 * @module
 */
import { writeJsonAtomic } from "../../io/atomic.ts";
import { greedyGrades } from "../../method/sample.ts";
import { type HyperValue, methodSpec } from "../../method/methods.ts";
import type { RunConfig } from "../../run/config.ts";
import type { PipelineContext } from "../context.ts";
import type { StageSpec } from "../stage.ts";
import { methodRequest } from "../train_params.ts";
import { TRAINING_MODULES, trainModel } from "./train_model.ts";

/** One point of a search and how it scored on the validation problems. */
export interface TunePoint {
  method: string;
  /** The hyper-parameters tried (the method's defaults with lr and the temperature replaced). */
  hyper: Record<string, HyperValue>;
  correct: number;
  n: number;
  /** Percent. */
  accuracy: number;
}

/** A search point's name: the method and its values, e.g. `cdpo:lr5e-5:gamma1`. */
export function tunePointName(method: string, lr: number, temperature: number | null): string {
  const spec = methodSpec(method);
  return `${method}:lr${lr}` + (temperature === null ? "" : `:${spec.temperature}${temperature}`);
}

/** The points of a method's search, in grid order (learning rate outer, temperature inner). */
export function tuneGrid(method: string): { lr: number; temperature: number | null }[] {
  const { grid } = methodSpec(method);
  const temperatures = grid.temperature ?? [null];
  return grid.lr.flatMap((lr) => temperatures.map((temperature) => ({ lr, temperature })));
}

/** The config with `method`'s lr and temperature replaced (the point to train). */
function withPoint(
  config: RunConfig,
  method: string,
  lr: number,
  temperature: number | null,
): RunConfig {
  const spec = methodSpec(method);
  const hyper: Record<string, HyperValue> = { ...config.training.hyper[method], lr };
  if (temperature !== null) hyper[spec.temperature!] = temperature;
  return {
    ...config,
    training: { ...config.training, hyper: { ...config.training.hyper, [method]: hyper } },
  };
}

/**
 * The stage that trains and scores one point. `sftDir` is the model methods that start from SFT
 * start from (the best SFT point), with the stage that made it.
 */
export function tuneStage(
  ctx: PipelineContext,
  method: string,
  lr: number,
  temperature: number | null,
  sft: { dir: string; stage: string } | null,
): StageSpec {
  const spec = methodSpec(method);
  const config = withPoint(ctx.config, method, lr, temperature);
  const seed = config.training.seeds[0];
  const name = `tune:${tunePointName(method, lr, temperature)}`;
  const modelDir = ctx.run.model(name.replaceAll(":", "-"));
  const { op, params } = methodRequest(config, ctx.run, ctx.policy.dir, method, seed, sft?.dir);
  // The search scores validation accuracy only: no held-out log-probs are measured.
  const request: Record<string, unknown> = { ...params, eval_pairs_path: null, eval_every: 0 };
  const {
    model_dir: _start,
    data_path: _data,
    pairs_path: _pairs,
    eval_pairs_path: _eval,
    ...settings
  } = request;
  const output = ctx.run.tuneResult(name);
  return {
    name,
    inputs: {
      method,
      data: spec.data,
      settings,
      policy: ctx.policy.hash,
      validation: ctx.problems.validation.map((p) => p.id),
      maxNewTokens: ctx.config.sampling.maxNewTokens,
    },
    after: [
      spec.data === "pairs_weighted" ? "ce_scores" : "sample",
      ...(spec.startsFrom === "sft" && sft ? [sft.stage] : []),
    ],
    code: [import.meta.url],
    trainer: [...TRAINING_MODULES, ...ctx.lmTrainerModules()],
    outputs: [output, modelDir],
    run: async () => {
      if (ctx.problems.validation.length === 0) {
        throw new Error(
          "Cannot tune: the run has no validation problems (set evaluation.validationProblems)",
        );
      }
      await trainModel(ctx, name, op, request, modelDir, `${name} (seed ${seed})`);
      const lm = await ctx.model(modelDir);
      const grades = await greedyGrades(
        lm,
        ctx.task,
        ctx.problems.validation,
        ctx.config.sampling.maxNewTokens,
      );
      await ctx.closeModel(modelDir);
      const correct = grades.filter((g) => g.correct).length;
      const point: TunePoint = {
        method,
        hyper: config.training.hyper[method],
        correct,
        n: grades.length,
        accuracy: (100 * correct) / grades.length,
      };
      await writeJsonAtomic(output, point);
      ctx.progress.log(
        `${name}: validation accuracy ${point.accuracy.toFixed(1)}% (${correct}/${grades.length})`,
      );
    },
  };
}

/** The best point of a method's search: the highest validation accuracy, ties to the earliest. */
export function bestPoint(points: readonly TunePoint[]): TunePoint {
  return points.reduce((best, p) => (p.accuracy > best.accuracy ? p : best));
}
