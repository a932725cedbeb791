/**
 * The embedded world as a {@linkcode ReasoningTask}: BOS + question tokens as the prompt,
 * the world's answer rule, and the exact first-error oracle.
 *
 * @module
 */
import type { LanguageModel } from "../lm/types.ts";
import { extractWorldAnswer } from "./grading.ts";
import { firstError } from "./world/oracle.ts";
import type { WorldProblem } from "./world/problem.ts";
import type { GradedResponse, GradeItem, ReasoningTask } from "./task.ts";

/** The world's word-level tokens of `ids`. */
function words(lm: LanguageModel, ids: readonly number[]): string[] {
  return ids.map((id) => lm.detokenize([id]));
}

/** Grades one world response (the oracle knows its first error). */
function gradeOne(lm: LanguageModel, item: GradeItem<WorldProblem>): GradedResponse {
  const { problem, responseIds, truncated } = item;
  const tokens = words(lm, responseIds);
  const answer = extractWorldAnswer(tokens);
  const correct = answer !== null && answer === problem.answer;
  const verdict = firstError(problem, tokens, { truncated });
  return {
    answer: answer === null ? null : String(answer),
    correct,
    firstError: !correct && verdict.kind === "error" ? verdict.index : null,
    verdict: verdict.kind === "error" ? verdict.failure : verdict.kind,
    // World tokens are words: the response is stored as its words joined by spaces.
    text: tokens.join(" "),
    tokens,
  };
}

/** The world task. */
export const worldTask: ReasoningTask<WorldProblem> = {
  name: "world",
  hasOracle: true,
  prompt: "world",
  stopStrings: [],
  promptIds(lm, problem) {
    const bos = lm.facts.bosTokenId;
    return [...(bos === null ? [] : [bos]), ...lm.tokenize(problem.question)];
  },
  grade(lm, items) {
    return Promise.resolve(items.map((item) => gradeOne(lm, item)));
  },
};
