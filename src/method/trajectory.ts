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

/** Whether each response answers its problem correctly (graded in one batch). */
export async function correctness(
  task: ReasoningTask,
  lm: LanguageModel,
  items: readonly { problem: TaskProblem; ids: readonly number[] }[],
): Promise<boolean[]> {
  const graded = await task.grade(
    lm,
    items.map(({ problem, ids }) => ({ problem, responseIds: ids, truncated: false })),
  );
  return graded.map((g) => g.correct);
}

/** Graded trajectories from samples (graded in one batch). */
export async function toTrajectories(
  task: ReasoningTask,
  lm: LanguageModel,
  split: "train" | "test",
  items: readonly { problem: TaskProblem; sample: Sample }[],
): Promise<Trajectory[]> {
  const ids = items.map(({ sample }) => stripEos(lm, sample.tokens));
  const graded = await task.grade(
    lm,
    items.map(({ problem, sample }, i) => ({
      problem,
      responseIds: ids[i],
      truncated: sample.stopReason === "length",
    })),
  );
  return items.map(({ problem, sample }, i) => ({
    trajectory_id: `${split}/${problem.id}/${sample.sampleIndex}`,
    split,
    problem_id: problem.id,
    sample_index: sample.sampleIndex,
    response: graded[i].text,
    response_ids: ids[i].join(" "),
    n_tokens: ids[i].length,
    answer: graded[i].answer,
    correct: graded[i].correct,
    first_error: graded[i].firstError,
    verdict: graded[i].verdict,
    stop_reason: sample.stopReason,
  }));
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
