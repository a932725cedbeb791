/**
 * GSM8K-style data sets (the usual JSONL: `{"question": ..., "answer": "... #### 42"}`) read from
 * local paths, as a {@linkcode ReasoningTask} for real checkpoints: the run's prompts (chat
 * template or 8-shot, see prompts.ts), the GSM8K answer rule compared exactly as the data set's
 * release does (grading.ts), and no first-error oracle (real data has none).
 *
 * @module
 */
import type { LanguageModel } from "../lm/types.ts";
import { extractGsm8kAnswer, gradeGsm8k, gsm8kReferenceAnswer } from "./grading.ts";
import { readProblemsJsonl, stringField } from "./jsonl_problems.ts";
import type { TaskPrompts } from "./prompts.ts";
import type { GradedResponse, GradeItem, ReasoningTask, TaskProblem, TextGrader } from "./task.ts";

/**
 * Reads a GSM8K-style JSONL file; a bad line names `file:line` and the field. A problem's answer
 * is the reference after `####`, as text with commas removed.
 */
export function readGsm8kJsonl(path: string, prefix: string): Promise<TaskProblem[]> {
  return readProblemsJsonl(path, prefix, "GSM8K", (record) => ({
    question: stringField(record, "question"),
    answer: referenceOf(stringField(record, "answer", ' ending in "#### <number>"')),
  }));
}

function referenceOf(field: string): string {
  try {
    return gsm8kReferenceAnswer(field);
  } catch (e) {
    throw new Error(`field 'answer': ${(e as Error).message}`);
  }
}

/** The response text up to the first stop string (the stop string is not part of the answer). */
export function responseBody(text: string, stops: readonly string[]): string {
  let end = text.length;
  for (const s of stops) {
    const at = text.indexOf(s);
    if (at >= 0 && at < end) end = at;
  }
  return text.slice(0, end);
}

/** Decoded text and per-token display strings of a response. */
export function decodeResponse(
  lm: LanguageModel,
  ids: readonly number[],
): { text: string; tokens: string[] } {
  return { text: lm.detokenize(ids), tokens: ids.map((id) => lm.detokenize([id])) };
}

/** A GSM8K task with the run's prompts. */
export function gsm8kTask(prompts: TaskPrompts): ReasoningTask {
  return {
    name: "gsm8k",
    hasOracle: false,
    prompt: prompts.description,
    stopStrings: prompts.stopStrings,
    promptIds: (lm, problem) => prompts.ids(lm, problem),
    grade(lm, items: readonly GradeItem[]): Promise<GradedResponse[]> {
      return Promise.resolve(items.map(({ problem, responseIds }) => {
        const { text, tokens } = decodeResponse(lm, responseIds);
        const body = responseBody(text, prompts.stopStrings);
        return {
          answer: extractGsm8kAnswer(body),
          correct: gradeGsm8k(body, String(problem.answer)),
          firstError: null,
          verdict: "unknown",
          text,
          tokens,
        };
      }));
    },
  };
}

/** GSM8K's answer rule on text; `reference` is a record's whole answer field ("... #### N"). */
export const gsm8kTextGrader: TextGrader = {
  name: "gsm8k",
  gradeTexts(items) {
    return Promise.resolve(items.map(({ response, reference }) => ({
      correct: gradeGsm8k(response, gsm8kReferenceAnswer(reference)),
      extracted: extractGsm8kAnswer(response),
    })));
  },
};
