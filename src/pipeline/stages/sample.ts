/**
 * Stage `sample` (method.md section 1): N graded trajectories per training problem, then the
 * positive SFT set, the negative SFT set and the preference pairs.
 *
 * @module
 */
import { hashSeed, Random } from "../../random.ts";
import { writeParquetAtomic } from "../../io/parquet.ts";
import { writeJsonl } from "../../io/jsonl.ts";
import type { LanguageModel } from "../../lm/mod.ts";
import type { TaskProblem } from "../../tasks/task.ts";
import {
  crossFitHalves,
  sampleGraded,
  selectTrajectories,
  type Trajectory,
  trajectoryIds,
} from "../../method/mod.ts";
import { mapChunks } from "../chunks.ts";
import type { PipelineContext } from "../context.ts";
import type { StageSpec } from "../stage.ts";

/**
 * Problems per resumable chunk. Each chunk draws from the seed hashSeed(seed, split, chunk
 * index), so this number is part of how samples are seeded: changing it changes the samples.
 */
export const SAMPLE_CHUNK_PROBLEMS = 25;

/** Samples `n` graded trajectories per problem, resumable chunk by chunk in `workDir`. */
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
    SAMPLE_CHUNK_PROBLEMS,
    (chunk, index) =>
      sampleGraded(lm, ctx.task, chunk, {
        split: options.split,
        n: options.n,
        temperature: options.temperature,
        topP: sampling.topP,
        maxNewTokens: sampling.maxNewTokens,
        seed: hashSeed(options.seed, options.split, index),
        // Finer than a chunk: problems done so far plus this chunk's share of finished samples.
        onProgress: (done, total) =>
          ctx.progress.update(
            Math.floor(index * SAMPLE_CHUNK_PROBLEMS + chunk.length * done / total),
          ),
      }),
    ctx.progress,
    options.label,
  );
}

/** The `sample` stage. */
export function sampleStage(ctx: PipelineContext): StageSpec {
  const run = ctx.run;
  return {
    name: "sample",
    inputs: {
      policy: ctx.policy.hash,
      sampler: ctx.sampler,
      task: ctx.task.name,
      prompt: ctx.task.prompt,
      sampling: ctx.config.sampling,
      seed: ctx.config.seed,
      n: ctx.problems.train.length,
      heldOutPairs: ctx.config.training.heldOutPairs,
    },
    after: [],
    code: [import.meta.url],
    trainer: ctx.lmTrainerModules(),
    outputs: [
      run.trajectories,
      run.sftPositive,
      run.sftNegative,
      run.sftCorrect,
      run.sftHalf("pos", 0),
      run.sftHalf("pos", 1),
      run.sftHalf("neg", 0),
      run.sftHalf("neg", 1),
      run.pairs,
      run.pairsHeldOut,
    ],
    tables: [{ path: run.trajectories, table: "trajectories" }],
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
      await writeParquetAtomic(run.trajectories, trajectories);
      const selection = selectTrajectories(
        trajectories.map((t) => ({ ...t, problemId: t.problem_id, sampleIndex: t.sample_index })),
        ctx.config.seed,
      );
      const prompt = (t: Trajectory) => ctx.task.promptIds(lm, ctx.problem(t.problem_id));
      const sft = (t: Trajectory) => ({
        id: t.trajectory_id,
        prompt_ids: prompt(t),
        response_ids: trajectoryIds(t),
      });
      await writeJsonl(run.sftPositive, selection.positive.map(sft));
      await writeJsonl(run.sftNegative, selection.negative.map(sft));
      await writeJsonl(run.sftCorrect, selection.correct.map(sft));
      // The same sets cut by cross-fitting's halves of the questions (out-of-sample scoring).
      const halves = crossFitHalves(ctx.problems.train.map((p) => p.id), ctx.config.seed);
      for (const half of [0, 1] as const) {
        const inHalf = (t: Trajectory) => halves.get(t.problem_id) === half;
        await writeJsonl(run.sftHalf("pos", half), selection.positive.filter(inHalf).map(sft));
        await writeJsonl(run.sftHalf("neg", half), selection.negative.filter(inHalf).map(sft));
      }
      const pairs = selection.pairs.map(({ chosen, rejected }) => ({
        chosen_id: chosen.trajectory_id,
        rejected_id: rejected.trajectory_id,
        prompt_ids: prompt(chosen),
        chosen_ids: trajectoryIds(chosen),
        rejected_ids: trajectoryIds(rejected),
      }));
      // A fixed, seeded set of pairs is held out of training: Figure 6 is measured on it. At
      // most a quarter of the pairs, so that training keeps most of its data.
      const heldOutCount = Math.min(ctx.config.training.heldOutPairs, Math.floor(pairs.length / 4));
      const heldOut = new Set(
        new Random(hashSeed(ctx.config.seed, "held-out-pairs")).shuffle(pairs)
          .slice(0, heldOutCount).map((p) => p.chosen_id),
      );
      await writeJsonl(run.pairs, pairs.filter((p) => !heldOut.has(p.chosen_id)));
      await writeJsonl(run.pairsHeldOut, pairs.filter((p) => heldOut.has(p.chosen_id)));
      const correct = trajectories.filter((t) => t.correct).length;
      ctx.progress.log(
        `sample: ${trajectories.length} trajectories, ${
          (100 * correct / trajectories.length).toFixed(1)
        }% correct; ` +
          `${selection.positive.length} positive, ${selection.negative.length} negative, ` +
          `${selection.correct.length} correct, ${selection.pairs.length} pairs (${heldOut.size} held out)`,
      );
    },
  };
}
