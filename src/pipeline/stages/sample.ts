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
import { join } from "node:path";
import {
  crossFitHalves,
  sampleGraded,
  selectTrajectories,
  type Trajectory,
  trajectoryIds,
} from "../../method/mod.ts";
import { cachedJson, mapChunks } from "../chunks.ts";
import type { PipelineContext } from "../context.ts";
import type { StageSpec } from "../stage.ts";

/**
 * Problems per seed block: block b of a split samples with seed hashSeed(seed, split, b), its
 * prompt k with stream k. Fixed: it is part of how samples are seeded.
 */
export const SAMPLE_SEED_BLOCK = 25;

/** One saved piece: problems [start, end) of the split, inside seed block `block`. */
interface Piece {
  block: number;
  start: number;
  end: number;
}

/** The pieces covering `count` problems sampled `n` times each, at most `rows` rows a piece. */
export function planPieces(count: number, n: number, rows: number): Piece[] {
  const size = Math.max(1, Math.floor(rows / n));
  const pieces: Piece[] = [];
  for (let block = 0; block * SAMPLE_SEED_BLOCK < count; block++) {
    const blockEnd = Math.min(count, (block + 1) * SAMPLE_SEED_BLOCK);
    for (let start = block * SAMPLE_SEED_BLOCK; start < blockEnd; start += size) {
      pieces.push({ block, start, end: Math.min(blockEnd, start + size) });
    }
  }
  return pieces;
}

/**
 * Samples `n` graded trajectories per problem, resumable piece by piece in `workDir`. A piece's
 * raw samples are saved before they are graded, so a grading failure never costs the sampling.
 */
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
  const name = `${options.split}-samples`;
  return await mapChunks(
    options.workDir,
    name,
    planPieces(problems.length, options.n, sampling.rowsPerPiece),
    1,
    ([piece], index) =>
      sampleGraded(lm, ctx.task, problems.slice(piece.start, piece.end), {
        split: options.split,
        n: options.n,
        temperature: options.temperature,
        topP: sampling.topP,
        maxNewTokens: sampling.maxNewTokens,
        seed: hashSeed(options.seed, options.split, piece.block),
        firstPromptIndex: piece.start - piece.block * SAMPLE_SEED_BLOCK,
        keep: (_key, compute) =>
          cachedJson(
            join(options.workDir, `${name}-raw-${String(index).padStart(5, "0")}.json`),
            compute,
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
