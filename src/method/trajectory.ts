/**
 * Turning a model's sampled tokens into graded trajectories (with the task's first-error
 * oracle where it has one).
 *
 * @module
 */
import type { LanguageModel, Sample } from "../lm/mod.ts";
import type { ReasoningTask, TaskProblem } from "../tasks/task.ts";
import type { TrajectoryRow } from "../run/schema.ts";

/** A trajectory row plus its token ids (kept in the stage's JSON, joined as text in Parquet). */
export interface Trajectory extends TrajectoryRow {
  response_ids: string;
}

/** Response ids without the end-of-sequence token the sample may end with. */
export function stripEos(lm: LanguageModel, tokens: readonly number[]): number[] {
  const out = tokens.slice();
  while (out.length > 0 && lm.facts.eosTokenIds.includes(out[out.length - 1])) out.pop();
  return out;
}

/** Whether the response `ids` answers `problem` correctly. */
export function isCorrect(
  task: ReasoningTask,
  lm: LanguageModel,
  problem: TaskProblem,
  ids: readonly number[],
): boolean {
  return task.grade(lm, problem, ids, false).correct;
}

/** A graded trajectory from one sample. */
export function toTrajectory(
  task: ReasoningTask,
  lm: LanguageModel,
  split: "train" | "test",
  problem: TaskProblem,
  sample: Sample,
): Trajectory {
  const ids = stripEos(lm, sample.tokens);
  const graded = task.grade(lm, problem, ids, sample.stopReason === "length");
  return {
    trajectory_id: `${split}/${problem.id}/${sample.sampleIndex}`,
    split,
    problem_id: problem.id,
    sample_index: sample.sampleIndex,
    // World tokens are words; other tokenizers' pieces are shown joined by a space as well.
    response: graded.tokens.join(" "),
    response_ids: ids.join(" "),
    n_tokens: ids.length,
    answer: graded.answer,
    correct: graded.correct,
    first_error: graded.firstError,
    verdict: graded.verdict,
    stop_reason: sample.stopReason,
  };
}

/** Token ids of a stored trajectory. */
export function trajectoryIds(t: Pick<Trajectory, "response_ids">): number[] {
  return t.response_ids === "" ? [] : t.response_ids.split(" ").map(Number);
}

/** How continuations are decoded: the run's sampling settings. */
export interface DecodeSettings {
  temperature: number;
  topP: number;
  maxNewTokens: number;
}
