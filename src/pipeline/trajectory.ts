/**
 * Turning a model's sampled tokens into graded, oracle-checked trajectories of the world.
 *
 * @module
 */
import type { LanguageModel, Sample } from "../lm/mod.ts";
import { extractWorldAnswer } from "../tasks/grading.ts";
import { firstError } from "../tasks/world/oracle.ts";
import type { WorldProblem } from "../tasks/world/problem.ts";
import type { TrajectoryRow } from "./schema.ts";

/** A trajectory row plus its token ids (kept in the stage's JSON, joined as text in Parquet). */
export interface Trajectory extends TrajectoryRow {
  response_ids: string;
}

/** The prompt ids of a world problem: BOS and the question's tokens. */
export function promptIds(lm: LanguageModel, problem: WorldProblem): number[] {
  const bos = lm.facts.bosTokenId;
  return [...(bos === null ? [] : [bos]), ...lm.tokenize(problem.question)];
}

/** Response ids without the end-of-sequence token the sample may end with. */
export function stripEos(lm: LanguageModel, tokens: readonly number[]): number[] {
  const out = tokens.slice();
  while (out.length > 0 && lm.facts.eosTokenIds.includes(out[out.length - 1])) out.pop();
  return out;
}

/** The word of each id (the world's tokenizer is word-level). */
export function idsToWords(lm: LanguageModel, ids: readonly number[]): string[] {
  return ids.map((id) => lm.detokenize([id]));
}

/** Whether a response (as words) answers `problem` correctly. */
export function isCorrect(problem: WorldProblem, words: readonly string[]): boolean {
  const answer = extractWorldAnswer(words);
  return answer !== null && answer === problem.answer;
}

/** A graded trajectory from one sample. */
export function toTrajectory(
  lm: LanguageModel,
  split: "train" | "test",
  problem: WorldProblem,
  sample: Sample,
  prefix: readonly number[] = [],
): Trajectory {
  const ids = [...prefix, ...stripEos(lm, sample.tokens)];
  const words = idsToWords(lm, ids);
  const answer = extractWorldAnswer(words);
  const verdict = firstError(problem, words, { truncated: sample.stopReason === "length" });
  const correct = answer !== null && answer === problem.answer;
  return {
    trajectory_id: `${split}/${problem.id}/${sample.sampleIndex}`,
    split,
    problem_id: problem.id,
    sample_index: sample.sampleIndex,
    response: words.join(" "),
    response_ids: ids.join(" "),
    n_tokens: ids.length,
    answer: answer === null ? null : String(answer),
    correct,
    first_error: !correct && verdict.kind === "error" ? verdict.index : null,
    verdict: verdict.kind === "error" ? verdict.failure : verdict.kind,
    stop_reason: sample.stopReason,
  };
}

/** Token ids of a stored trajectory. */
export function trajectoryIds(t: Pick<Trajectory, "response_ids">): number[] {
  return t.response_ids === "" ? [] : t.response_ids.split(" ").map(Number);
}
