/**
 * GSM8K-style data sets (the usual JSONL: `{"question": ..., "answer": "... #### 42"}`) read from
 * local paths, as a {@linkcode ReasoningTask} for real checkpoints (real_task.ts): the GSM8K
 * answer rule compared exactly as the data set's release does (grading.ts).
 *
 * @module
 */
import { extractGsm8kAnswer, gradeGsm8k, gsm8kReferenceAnswer } from "./grading.ts";
import { readProblemsJsonl, stringField } from "./jsonl_problems.ts";
import type { TaskPrompts } from "./prompts.ts";
import { realTask } from "./real_task.ts";
import type { ReasoningTask, TaskProblem, TextGrader } from "./task.ts";

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

/** GSM8K's answer rule against a reference already read from its field ("72"). */
export const gsm8kAnswerGrader: TextGrader = {
  name: "gsm8k",
  gradeTexts(items) {
    return Promise.resolve(items.map(({ response, reference }) => ({
      correct: gradeGsm8k(response, reference),
      extracted: extractGsm8kAnswer(response),
    })));
  },
};

/** GSM8K's answer rule on text; `reference` is a record's whole answer field ("... #### N"). */
export const gsm8kTextGrader: TextGrader = {
  name: "gsm8k",
  gradeTexts(items) {
    return gsm8kAnswerGrader.gradeTexts(
      items.map(({ response, reference }) => ({
        response,
        reference: gsm8kReferenceAnswer(reference),
      })),
    );
  },
};

/** A GSM8K task with the run's prompts. */
export function gsm8kTask(prompts: TaskPrompts): ReasoningTask {
  return realTask("gsm8k", prompts, gsm8kAnswerGrader);
}
