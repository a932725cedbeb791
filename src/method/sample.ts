/**
 * Sampling and grading (method.md section 1): N trajectories per problem from the policy, each
 * graded and, where the task has an oracle, given its first error.
 *
 * @module
 */
import type { LanguageModel } from "../lm/mod.ts";
import type { ReasoningTask, TaskProblem } from "../tasks/task.ts";
import { keepNothing, type KeepPiece } from "./keep_piece.ts";
import { type DecodeSettings, stripEos, toTrajectories, type Trajectory } from "./trajectory.ts";

/** Options of {@linkcode sampleGraded}. */
export interface SampleGradedOptions extends DecodeSettings {
  split: "train" | "test";
  /** Samples per problem. */
  n: number;
  seed: number;
  /**
   * The index of `problems[0]` in the seeded request these problems are a piece of (default 0):
   * its samples continue that request's streams, so pieces give the whole request's samples.
   */
  firstPromptIndex?: number;
  /** Where the raw samples are kept (under the key "raw") before they are graded. */
  keep?: KeepPiece;
  /** Called as samples finish (the backend's progress: decoding steps, or finished requests). */
  onProgress?: (done: number, total: number) => void;
}

/** `n` graded trajectories per problem, ordered by problem, then sample. */
export async function sampleGraded(
  lm: LanguageModel,
  task: ReasoningTask,
  problems: readonly TaskProblem[],
  options: SampleGradedOptions,
): Promise<Trajectory[]> {
  const samples = await (options.keep ?? keepNothing)("raw", () =>
    lm.sample({
      prompts: problems.map((p) => task.promptIds(lm, p)),
      n: options.n,
      temperature: options.temperature,
      topP: options.topP,
      maxNewTokens: options.maxNewTokens,
      stopStrings: task.stopStrings,
      seed: options.seed,
      firstPromptIndex: options.firstPromptIndex,
      onProgress: options.onProgress,
    }));
  return await toTrajectories(
    task,
    lm,
    options.split,
    samples.map((s) => ({ problem: problems[s.promptIndex], sample: s })),
  );
}

/** Greedy decoding of each problem, graded: one outcome per problem, in order. */
export async function greedyGrades(
  lm: LanguageModel,
  task: ReasoningTask,
  problems: readonly TaskProblem[],
  maxNewTokens: number,
): Promise<
  { problem: TaskProblem; correct: boolean; answer: string | null; response: string }[]
> {
  const samples = await lm.sample({
    prompts: problems.map((p) => task.promptIds(lm, p)),
    n: 1,
    temperature: 0,
    maxNewTokens,
    stopStrings: task.stopStrings,
    seed: 0,
  });
  const graded = await task.grade(
    lm,
    samples.map((s) => ({
      problem: problems[s.promptIndex],
      responseIds: stripEos(lm, s.tokens),
      truncated: s.stopReason === "length",
    })),
  );
  return samples.map((s, k) => ({
    problem: problems[s.promptIndex],
    correct: graded[k].correct,
    answer: graded[k].answer,
    response: graded[k].text,
  }));
}
