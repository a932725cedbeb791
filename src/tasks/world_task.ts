/**
 * The embedded world as a {@linkcode ReasoningTask}: BOS + question tokens as the prompt,
 * the world's answer rule, and the exact first-error oracle.
 *
 * @module
 */
import type { LanguageModel } from "../lm/types.ts";
import { extractWorldAnswer } from "./grading.ts";
import { firstError } from "./world/oracle.ts";
import { CONNECTIVES, TRAP_CONNECTIVE } from "./world/lexicon.ts";
import type { WorldProblem } from "./world/problem.ts";
import type { GradedResponse, GradeItem, ReasoningTask } from "./task.ts";

/** The world's word-level tokens of `ids`. */
function words(lm: LanguageModel, ids: readonly number[]): string[] {
  return ids.map((id) => lm.detokenize([id]));
}

/**
 * The world task. With `delayedTrap` (the world's delayedTrapRate is set), a confusion right
 * after a line opened with the trap connective is labelled `delayed_confusion`: its outcome was
 * decided a step before its first wrong token.
 */
export function worldTask(delayedTrap: boolean): ReasoningTask<WorldProblem> {
  const gradeOne = (lm: LanguageModel, item: GradeItem<WorldProblem>): GradedResponse => {
    const { problem, responseIds, truncated } = item;
    const tokens = words(lm, responseIds);
    const answer = extractWorldAnswer(tokens);
    const correct = answer !== null && answer === problem.answer;
    const verdict = firstError(problem, tokens, { truncated });
    return {
      answer: answer === null ? null : String(answer),
      correct,
      firstError: !correct && verdict.kind === "error" ? verdict.index : null,
      verdict: verdict.kind !== "error"
        ? verdict.kind
        : delayedTrap && verdict.failure === "confusion" && afterTrap(tokens, verdict.index)
        ? "delayed_confusion"
        : verdict.failure,
      // World tokens are words: the response is stored as its words joined by spaces.
      text: tokens.join(" "),
      tokens,
    };
  };
  return {
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
}

/** Whether the step whose meaning word is `tokens[index]` follows a line opened with the trap. */
export function afterTrap(tokens: readonly string[], index: number): boolean {
  // tokens[index - 1] is this step's connective; the previous connective opened the line before.
  for (let i = index - 2; i >= 0; i--) {
    if (CONNECTIVE_WORDS.has(tokens[i])) return tokens[i] === TRAP_CONNECTIVE;
  }
  return false;
}

const CONNECTIVE_WORDS = new Set(CONNECTIVES.map((c) => c.word));
