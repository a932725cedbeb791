/**
 * Stage `evaluate` (method.md section 5): greedy accuracy of the base policy and of every
 * trained model on the test split; Figure 5's three accuracies (as sampled, with the CE critical
 * token replaced and continued, after cDPO); and the training metrics gathered into Parquet.
 *
 * @module
 */
import { join } from "node:path";
import { hashSeed } from "../../random.ts";
import { writeParquetAtomic } from "../../io/parquet.ts";
import { readJsonl } from "../../io/jsonl.ts";
import type { LanguageModel } from "../../lm/mod.ts";
import {
  argmin,
  correctPerItem,
  greedyGrades,
  replaceAndContinue,
  scoreTokens,
  type Trajectory,
  trajectoryIds,
} from "../../method/mod.ts";
import {
  type EvaluationRow,
  type Fig5Row,
  METRIC_COLUMNS,
  type MetricRow,
  metricRow,
} from "../../run/schema.ts";
import { mapChunks } from "../chunks.ts";
import type { PipelineContext } from "../context.ts";
import type { StageSpec } from "../stage.ts";
import { sampleTrajectories } from "./sample.ts";
import { trainStageName } from "./train.ts";
import { trainedName } from "../train_params.ts";

/**
 * Test problems per resumable chunk of greedy evaluation, at most: fewer when the run's
 * `sampling.rowsPerPiece` is smaller (a real model on a CPU), so that an interruption costs about
 * as much as one sampling piece. Greedy results do not depend on it.
 */
const GREEDY_CHUNK_PROBLEMS = 100;
/**
 * Trajectories per chunk of Figure 5's replacement, at most (fewer when `sampling.rowsPerPiece`
 * is smaller). Each chunk draws from hashSeed(seed, "fig5-replaced", chunk index), so the chunk
 * size is part of how those samples are seeded; it is a function of the run's config.
 */
const FIG5_CHUNK_TRAJECTORIES = 64;

/** Greedy decoding of every test problem; one row per problem. */
export async function greedyEvaluation(
  ctx: PipelineContext,
  lm: LanguageModel,
  method: string,
  seed: number,
  workDir: string,
): Promise<EvaluationRow[]> {
  return await mapChunks(
    workDir,
    `greedy-${method}-s${seed}`,
    ctx.problems.test,
    Math.min(GREEDY_CHUNK_PROBLEMS, ctx.config.sampling.rowsPerPiece),
    async (chunk) =>
      (await greedyGrades(lm, ctx.task, chunk, ctx.config.sampling.maxNewTokens)).map((g) => ({
        method,
        seed,
        problem_id: g.problem.id,
        correct: g.correct,
        answer: g.answer,
        response: g.response,
      })),
    ctx.progress,
    `evaluate: ${method}${method === "base" ? "" : ` s${seed}`}`,
  );
}

/**
 * Figure 5 (ii): each incorrect sampled test trajectory has its CE critical token (argmin s_t)
 * replaced by an alternative drawn with that token masked, then is completed once.
 */
async function ceReplacedCorrect(
  ctx: PipelineContext,
  policy: LanguageModel,
  incorrect: readonly Trajectory[],
  workDir: string,
): Promise<boolean[]> {
  const [pos, neg] = await Promise.all([
    ctx.model(ctx.run.model("sft_pos")),
    ctx.model(ctx.run.model("sft_neg")),
  ]);
  const { temperature, topP, maxNewTokens } = ctx.config.sampling;
  return await mapChunks(
    workDir,
    "fig5-replaced",
    incorrect,
    Math.min(FIG5_CHUNK_TRAJECTORIES, ctx.config.sampling.rowsPerPiece),
    async (chunk, index) => {
      const responses = chunk.map(trajectoryIds);
      const problems = chunk.map((t) => ctx.problem(t.problem_id));
      const scores = await scoreTokens(
        { policy, pos, neg },
        problems.map((p) => ctx.task.promptIds(policy, p)),
        responses,
        ctx.config.contrastive.beta,
      );
      const completions = await replaceAndContinue(
        policy,
        ctx.task,
        chunk.map((_, i) => ({
          problem: problems[i],
          response: responses[i],
          position: argmin(scores[i].s),
        })),
        {
          n: 1,
          temperature,
          topP,
          maxNewTokens,
          seed: hashSeed(ctx.config.seed, "fig5-replaced", index),
        },
      );
      return correctPerItem(completions, chunk.length).map((c) => c > 0);
    },
    ctx.progress,
    "evaluate: CE token replaced",
  );
}

/** The `evaluate` stage. */
export function evaluateStage(ctx: PipelineContext, trainStages: string[]): StageSpec {
  const { methods, seeds } = ctx.config.training;
  return {
    name: "evaluate",
    inputs: {
      maxNewTokens: ctx.config.sampling.maxNewTokens,
      stopStrings: ctx.task.stopStrings,
      testPerProblem: ctx.config.sampling.testPerProblem,
      temperature: ctx.config.sampling.temperature,
      tests: ctx.problems.test.length,
      fig5Problems: ctx.config.evaluation.fig5Problems,
      sampler: ctx.sampler,
    },
    after: ["sample", "sft_pos", "sft_neg", ...trainStages],
    code: [import.meta.url],
    trainer: ctx.lmTrainerModules(),
    outputs: [ctx.run.evaluation, ctx.run.fig5, ctx.run.metrics],
    tables: [
      { path: ctx.run.evaluation, table: "evaluation" },
      { path: ctx.run.fig5, table: "fig5" },
      // Every trained model leaves its metrics; a run that trains nothing has none.
      { path: ctx.run.metrics, table: "metrics", allowEmpty: methods.length === 0 },
    ],
    run: async (workDir) => {
      const policy = await ctx.model(ctx.policy.dir);
      const rows: EvaluationRow[] = await greedyEvaluation(ctx, policy, "base", 0, workDir);
      for (const method of methods) {
        for (const seed of seeds) {
          const dir = ctx.run.model(trainedName(method, seed));
          rows.push(...await greedyEvaluation(ctx, await ctx.model(dir), method, seed, workDir));
          await ctx.closeModel(dir);
        }
      }
      await writeParquetAtomic(ctx.run.evaluation, rows);

      // Figure 5 on the first test problems, sampled at the training temperature.
      const fig5Count = ctx.config.evaluation.fig5Problems;
      const fig5Problems = fig5Count > 0
        ? ctx.problems.test.slice(0, fig5Count)
        : ctx.problems.test;
      const sampleArgs = {
        split: "test" as const,
        n: ctx.config.sampling.testPerProblem,
        temperature: ctx.config.sampling.temperature,
        seed: hashSeed(ctx.config.seed, "fig5"),
        workDir,
      };
      const sampled = await sampleTrajectories(ctx, policy, fig5Problems, {
        ...sampleArgs,
        label: "evaluate: sampled",
      });
      const wrong = sampled.filter((t) => !t.correct && t.n_tokens > 0);
      const fixed = await ceReplacedCorrect(ctx, policy, wrong, workDir);
      const nCorrect = sampled.length - wrong.length;
      const fig5: Fig5Row[] = [
        { condition: "sampled", accuracy: (100 * nCorrect) / sampled.length, n: sampled.length },
        {
          condition: "ce_replaced",
          accuracy: (100 * (nCorrect + fixed.filter(Boolean).length)) / sampled.length,
          n: sampled.length,
        },
      ];
      if (methods.includes("cdpo")) {
        const dir = ctx.run.model(trainedName("cdpo", seeds[0]));
        const cdpo = await sampleTrajectories(ctx, await ctx.model(dir), fig5Problems, {
          ...sampleArgs,
          workDir: join(workDir, "cdpo"),
          label: "evaluate: sampled after cDPO",
        });
        await ctx.closeModel(dir);
        fig5.push({
          condition: "cdpo",
          accuracy: (100 * cdpo.filter((t) => t.correct).length) / cdpo.length,
          n: cdpo.length,
        });
      }
      await writeParquetAtomic(ctx.run.fig5, fig5);

      const metrics: MetricRow[] = [];
      for (const method of methods) {
        for (const seed of seeds) {
          // An output of its training stage: present whenever that stage is done.
          const path = ctx.run.stageMetrics(trainStageName(method, seed));
          for (const m of await readJsonl<Record<string, unknown>>(path)) {
            metrics.push(metricRow(method, seed, m));
          }
        }
      }
      await writeParquetAtomic(ctx.run.metrics, metrics, METRIC_COLUMNS);
    },
  };
}
