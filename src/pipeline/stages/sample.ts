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
import { cachedJson, mapChunks } from "../chunks.ts";
import type { PipelineContext } from "../context.ts";
import type { StageSpec } from "../stage.ts";
import { toTrajectories, type Trajectory, trajectoryIds } from "../trajectory.ts";

/** Problems per seed block: fixed, it is part of how seeds are derived (block b of a split
 * samples with seed hashSeed(seed, split, b), prompt k of the block with stream k). */
const SEED_BLOCK = 25;
/**
 * Most rows (problems x samples) per saved piece of work: an interruption loses at most one
 * piece, about a minute of sampling for a 135M model on two CPU cores. Pieces never cross a seed
 * block, and a piece continues its block's random streams, so the samples do not depend on it.
 */
const ROWS_PER_PIECE = 32;

/** One saved piece: problems [start, end) of the split, inside seed block `block`. */
interface Piece {
  block: number;
  start: number;
  end: number;
}

/** The pieces covering `count` problems sampled `n` times each. */
export function planPieces(count: number, n: number): Piece[] {
  const size = Math.max(1, Math.floor(ROWS_PER_PIECE / n));
  const pieces: Piece[] = [];
  for (let block = 0; block * SEED_BLOCK < count; block++) {
    const blockEnd = Math.min(count, (block + 1) * SEED_BLOCK);
    for (let start = block * SEED_BLOCK; start < blockEnd; start += size) {
      pieces.push({ block, start, end: Math.min(blockEnd, start + size) });
    }
  }
  return pieces;
}

/**
 * Samples `n` trajectories per problem, resumable piece by piece in `workDir`. A piece's raw
 * samples are saved before they are graded, so a grading failure never costs the sampling.
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
  const name = `${options.split}-piece`;
  return await mapChunks(
    options.workDir,
    name,
    planPieces(problems.length, options.n),
    1,
    async ([piece], index) => {
      const chunk = problems.slice(piece.start, piece.end);
      const samples = await cachedJson(
        join(options.workDir, `${name}-raw-${String(index).padStart(5, "0")}.json`),
        () =>
          lm.sample({
            prompts: chunk.map((p) => ctx.task.promptIds(lm, p)),
            n: options.n,
            temperature: options.temperature,
            topP: sampling.topP,
            maxNewTokens: sampling.maxNewTokens,
            stopStrings: ctx.task.stopStrings,
            seed: hashSeed(options.seed, options.split, piece.block),
            firstPromptIndex: piece.start - piece.block * SEED_BLOCK,
          }),
      );
      return await toTrajectories(
        ctx.task,
        lm,
        options.split,
        samples.map((s) => ({ problem: chunk[s.promptIndex], sample: s })),
      );
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
      task: ctx.task.name,
      prompt: ctx.task.prompt,
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
