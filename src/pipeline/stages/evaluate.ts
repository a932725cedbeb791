/**
 * Stage `evaluate` (method.md section 5): greedy accuracy of the base policy and of every
 * trained model on the test split; Figure 5's three accuracies (as sampled, with the CE critical
 * token replaced and continued, after cDPO); and the training metrics gathered into Parquet.
 *
 * @module
 */
import { existsSync } from "node:fs";
import { join } from "node:path";
import { hashSeed } from "../../random.ts";
import { writeParquetAtomic } from "../../io/parquet.ts";
import { readJsonl } from "../../io/jsonl.ts";
import { argmin } from "../../critical/contrastive.ts";
import type { LanguageModel } from "../../lm/mod.ts";
import { mapChunks } from "../chunks.ts";
import type { PipelineContext } from "../context.ts";
import type { EvaluationRow, Fig5Row, MetricRow } from "../schema.ts";
import type { StageSpec } from "../stage.ts";
import { correctness, stripEos, type Trajectory, trajectoryIds } from "../trajectory.ts";
import { scoreTokens } from "./contrastive.ts";
import { sampleTrajectories } from "./sample.ts";
import { trainedName, trainStageName } from "./train.ts";

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
    100,
    async (chunk) => {
      const samples = await lm.sample({
        prompts: chunk.map((p) => ctx.task.promptIds(lm, p)),
        n: 1,
        temperature: 0,
        maxNewTokens: ctx.config.sampling.maxNewTokens,
        stopStrings: ctx.task.stopStrings,
        seed: 0,
      });
      const graded = await ctx.task.grade(
        lm,
        samples.map((s) => ({
          problem: chunk[s.promptIndex],
          responseIds: stripEos(lm, s.tokens),
          truncated: s.stopReason === "length",
        })),
      );
      return samples.map((s, k) => ({
        method,
        seed,
        problem_id: chunk[s.promptIndex].id,
        correct: graded[k].correct,
        answer: graded[k].answer,
        response: graded[k].text,
      }));
    },
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
  return await mapChunks(
    workDir,
    "fig5-replaced",
    incorrect,
    64,
    async (chunk, index) => {
      const prompts = chunk.map((t) => ctx.task.promptIds(policy, ctx.problem(t.problem_id)));
      const responses = chunk.map(trajectoryIds);
      const scores = await scoreTokens(
        policy,
        pos,
        neg,
        prompts,
        responses,
        ctx.config.contrastive.beta,
      );
      const critical = scores.map((s) => argmin(s.s));
      const samples = await policy.sample({
        prompts: chunk.map((_, i) => ({
          tokens: prompts[i],
          forcedPrefix: responses[i].slice(0, critical[i]),
          maskFirst: [responses[i][critical[i]]],
        })),
        n: 1,
        temperature: ctx.config.sampling.temperature,
        topP: ctx.config.sampling.topP,
        maxNewTokens: ctx.config.sampling.maxNewTokens,
        stopStrings: ctx.task.stopStrings,
        seed: hashSeed(ctx.config.seed, "fig5-replaced", index),
      });
      return await correctness(
        ctx.task,
        policy,
        samples.map((s) => ({
          problem: ctx.problem(chunk[s.promptIndex].problem_id),
          ids: [
            ...responses[s.promptIndex].slice(0, critical[s.promptIndex]),
            ...stripEos(
              policy,
              s.tokens,
            ),
          ],
        })),
      );
    },
    ctx.progress,
    "evaluate: CE token replaced",
  );
}

/** Reads a trainer metrics.jsonl into rows of metrics.parquet. */
async function metricRows(path: string, method: string, seed: number): Promise<MetricRow[]> {
  const num = (x: unknown) => (typeof x === "number" ? x : null);
  return (await readJsonl<Record<string, number>>(path)).map((m) => {
    return {
      method,
      seed,
      step: m.step,
      loss: m.loss,
      reward_margin: num(m.reward_margin),
      reward_accuracy: num(m.reward_accuracy),
      logp_chosen: num(m.logp_chosen),
      logp_rejected: num(m.logp_rejected),
      grad_norm: m.grad_norm,
      lr: m.lr,
    };
  });
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
    },
    after: ["sample", "sft_pos", "sft_neg", ...trainStages],
    outputs: [ctx.run.evaluation, ctx.run.fig5, ctx.run.metrics],
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

      // Figure 5 on the test split, sampled at the training temperature.
      const sampleArgs = {
        split: "test" as const,
        n: ctx.config.sampling.testPerProblem,
        temperature: ctx.config.sampling.temperature,
        seed: hashSeed(ctx.config.seed, "fig5"),
        workDir,
      };
      const sampled = await sampleTrajectories(ctx, policy, ctx.problems.test, {
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
        const cdpo = await sampleTrajectories(ctx, await ctx.model(dir), ctx.problems.test, {
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
          const path = join(ctx.run.stage(trainStageName(method, seed)), "work", "metrics.jsonl");
          if (existsSync(path)) metrics.push(...await metricRows(path, method, seed));
        }
      }
      await writeParquetAtomic(ctx.run.metrics, metrics);
    },
  };
}
