/**
 * Stage `sample` (method.md section 1): N trajectories per training problem from the policy,
 * graded and checked by the first-error oracle; then the positive SFT set, the negative SFT set
 * and the preference pairs.
 *
 * @module
 */
import { join } from "node:path";
import { hashSeed } from "../../random.ts";
import { writeParquetAtomic } from "../../io/parquet.ts";
import { writeJsonl } from "../../io/jsonl.ts";
import { selectTrajectories } from "../../critical/selection.ts";
import type { LanguageModel } from "../../lm/mod.ts";
import type { TaskProblem } from "../../tasks/task.ts";
import { mapChunks } from "../chunks.ts";
import type { PipelineContext } from "../context.ts";
import type { StageSpec } from "../stage.ts";
import { toTrajectory, type Trajectory, trajectoryIds } from "../trajectory.ts";

/** Problems per resumable chunk. Fixed: it is part of how seeds are derived. */
const CHUNK = 25;

/** Samples `n` trajectories per problem, resumable chunk by chunk in `workDir`. */
export async function sampleTrajectories(
  ctx: PipelineContext,
  lm: LanguageModel,
  problems: readonly TaskProblem[],
  options: {
    split: "train" | "test";
    n: number;
    temperature: number;
    seed: number;
    workDir: string;
    label: string;
  },
): Promise<Trajectory[]> {
  const { sampling } = ctx.config;
  return await mapChunks(
    options.workDir,
    `${options.split}-samples`,
    problems,
    CHUNK,
    async (chunk, index) => {
      const samples = await lm.sample({
        prompts: chunk.map((p) => ctx.task.promptIds(lm, p)),
        n: options.n,
        temperature: options.temperature,
        topP: sampling.topP,
        maxNewTokens: sampling.maxNewTokens,
        stopStrings: ctx.task.stopStrings,
        seed: hashSeed(options.seed, options.split, index),
        // Finer than a chunk: problems done so far plus this chunk's share of finished samples.
        onProgress: (done, total) =>
          ctx.progress.update(Math.floor(index * CHUNK + chunk.length * done / total)),
      });
      return samples.map((s) => toTrajectory(ctx.task, lm, options.split, chunk[s.promptIndex], s));
    },
    ctx.progress,
    options.label,
  );
}

/** Paths of the selected training data. */
export function selectionPaths(ctx: PipelineContext) {
  return {
    positive: join(ctx.run.data, "sft_pos.jsonl"),
    negative: join(ctx.run.data, "sft_neg.jsonl"),
    pairs: join(ctx.run.data, "pairs.jsonl"),
  };
}

/** The `sample` stage. */
export function sampleStage(ctx: PipelineContext): StageSpec {
  const paths = selectionPaths(ctx);
  return {
    name: "sample",
    inputs: {
      policy: ctx.policy.hash,
      sampler: ctx.sampler,
      task: ctx.task.name,
      sampling: ctx.config.sampling,
      seed: ctx.config.seed,
      n: ctx.problems.train.length,
    },
    after: [],
    outputs: [ctx.run.trajectories, paths.positive, paths.negative, paths.pairs],
    run: async (workDir) => {
      const lm = await ctx.model(ctx.policy.dir);
      const trajectories = await sampleTrajectories(ctx, lm, ctx.problems.train, {
        split: "train",
        n: ctx.config.sampling.perProblem,
        temperature: ctx.config.sampling.temperature,
        seed: ctx.config.seed,
        workDir,
        label: "sample: train trajectories",
      });
      await writeParquetAtomic(ctx.run.trajectories, trajectories);
      const selection = selectTrajectories(trajectories.map((t) => ({
        ...t,
        problemId: t.problem_id,
        sampleIndex: t.sample_index,
      })));
      const prompt = (t: Trajectory) => ctx.task.promptIds(lm, ctx.problem(t.problem_id));
      const sft = (t: Trajectory) => ({
        id: t.trajectory_id,
        prompt_ids: prompt(t),
        response_ids: trajectoryIds(t),
      });
      await writeJsonl(paths.positive, selection.positive.map(sft));
      await writeJsonl(paths.negative, selection.negative.map(sft));
      await writeJsonl(
        paths.pairs,
        selection.pairs.map(({ chosen, rejected }) => ({
          chosen_id: chosen.trajectory_id,
          rejected_id: rejected.trajectory_id,
          prompt_ids: prompt(chosen),
          chosen_ids: trajectoryIds(chosen),
          rejected_ids: trajectoryIds(rejected),
        })),
      );
      const correct = trajectories.filter((t) => t.correct).length;
      ctx.progress.log(
        `sample: ${trajectories.length} trajectories, ${
          (100 * correct / trajectories.length).toFixed(1)
        }% correct; ` +
          `${selection.positive.length} positive, ${selection.negative.length} negative, ${selection.pairs.length} pairs`,
      );
    },
  };
}
