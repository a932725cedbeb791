/**
 * GSM8K-style data sets (the usual JSONL: `{"question": ..., "answer": "... #### 42"}`) read
 * from local paths, as a {@linkcode ReasoningTask} for real checkpoints: a few-shot prompt
 * (paper: 8-shot), the GSM8K answer rule, and no first-error oracle (real data has none).
 *
 * @module
 */
import type { LanguageModel } from "../lm/types.ts";
import { answersMatch, extractGsm8kAnswer, gsm8kReferenceAnswer } from "./grading.ts";
import type { GradedResponse, ReasoningTask, TaskProblem } from "./task.ts";

/** One worked example of the few-shot prompt. */
export interface FewShotExample {
  question: string;
  /** The worked solution, ending with "The answer is N." */
  solution: string;
}

/** Reads a GSM8K-style JSONL file; a bad line names `file:line` and the field. */
export async function readGsm8kJsonl(path: string, prefix: string): Promise<TaskProblem[]> {
  let text: string;
  try {
    text = await Deno.readTextFile(path);
  } catch (e) {
    throw new Error(`Cannot read GSM8K data ${path}: ${(e as Error).message}`);
  }
  const problems: TaskProblem[] = [];
  for (const [i, line] of text.split("\n").entries()) {
    if (!line.trim()) continue;
    let record: Record<string, unknown>;
    try {
      record = JSON.parse(line);
    } catch (e) {
      throw new Error(
        `Cannot read GSM8K data ${path}:${i + 1}: invalid JSON (${(e as Error).message})`,
      );
    }
    if (typeof record.question !== "string" || !record.question.trim()) {
      throw new Error(
        `Cannot read GSM8K data ${path}:${i + 1}: field 'question' must be a non-empty string`,
      );
    }
    if (typeof record.answer !== "string") {
      throw new Error(
        `Cannot read GSM8K data ${path}:${
          i + 1
        }: field 'answer' must be a string ending in "#### <number>"`,
      );
    }
    let answer: number;
    try {
      answer = gsm8kReferenceAnswer(record.answer);
    } catch (e) {
      throw new Error(
        `Cannot read GSM8K data ${path}:${i + 1}: field 'answer': ${(e as Error).message}`,
      );
    }
    problems.push({ id: `${prefix}-${problems.length}`, question: record.question.trim(), answer });
  }
  return problems;
}

/** The text of a few-shot prompt for `question`. */
export function fewShotPrompt(examples: readonly FewShotExample[], question: string): string {
  const shots = examples.map((e) => `Question: ${e.question}\nAnswer: ${e.solution}\n\n`).join("");
  return `${shots}Question: ${question}\nAnswer:`;
}

/** A GSM8K task with the given few-shot examples. */
export function gsm8kTask(examples: readonly FewShotExample[]): ReasoningTask {
  return {
    name: "gsm8k",
    hasOracle: false,
    // The model would go on to write the next few-shot question.
    stopStrings: ["\nQuestion:", "\n\n"],
    promptIds(lm: LanguageModel, problem: TaskProblem) {
      const bos = lm.facts.bosTokenId;
      return [
        ...(bos === null ? [] : [bos]),
        ...lm.tokenize(fewShotPrompt(examples, problem.question)),
      ];
    },
    grade(lm, problem, responseIds): GradedResponse {
      const text = lm.detokenize(responseIds);
      // The stop string itself is not part of the answer.
      const body = text.split("\nQuestion:")[0];
      const predicted = extractGsm8kAnswer(body);
      return {
        answer: predicted === null ? null : String(predicted),
        correct: answersMatch(predicted, problem.answer),
        firstError: null,
        verdict: "unknown",
        tokens: responseIds.map((id) => lm.detokenize([id])),
      };
    },
  };
}
