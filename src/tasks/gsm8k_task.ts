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
import { readJsonlLines } from "../io/jsonl.ts";
import { DataFileError } from "../io/data_file_error.ts";
import { decodeUtf8Strict, Utf8Error } from "../io/utf8.ts";
import { visible } from "../io/visible.ts";
import { jsonErrorPosition } from "../config/json_file.ts";

/** One worked example of the few-shot prompt. */
export interface FewShotExample {
  question: string;
  /** The worked solution, ending with "The answer is N." */
  solution: string;
}

/**
 * Reads a GSM8K-style JSONL file (UTF-8, an optional byte-order mark, one object per line); a
 * bad line is a {@linkcode DataFileError} naming `file:line` and the field.
 */
export async function readGsm8kJsonl(path: string, prefix: string): Promise<TaskProblem[]> {
  const problems: TaskProblem[] = [];
  for (const { line, record } of await readJsonlLines(path, { what: "GSM8K-style JSONL" })) {
    if (typeof record.question !== "string" || !record.question.trim()) {
      throw new DataFileError(path, line, "field 'question' must be a non-empty string");
    }
    if (typeof record.answer !== "string") {
      throw new DataFileError(
        path,
        line,
        `field 'answer' must be a string ending in "#### <number>"`,
      );
    }
    let answer: number;
    try {
      answer = gsm8kReferenceAnswer(record.answer);
    } catch (e) {
      throw new DataFileError(path, line, `field 'answer': ${visible((e as Error).message)}`);
    }
    problems.push({ id: `${prefix}-${problems.length}`, question: record.question.trim(), answer });
  }
  return problems;
}

/** Reads the few-shot examples: a JSON list of {question, solution}; a bad entry names its index. */
export async function readFewShot(path: string): Promise<FewShotExample[]> {
  let text: string;
  try {
    text = decodeUtf8Strict(await Deno.readFile(path));
  } catch (e) {
    if (e instanceof Utf8Error) {
      throw new DataFileError(path, e.line, `invalid UTF-8 at byte offset ${e.offset}`, e.offset);
    }
    throw new DataFileError(path, null, `${(e as Error).message}; expected a few-shot JSON file`);
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (e) {
    const pos = jsonErrorPosition(text, e as Error);
    throw new DataFileError(
      path,
      pos?.line ?? null,
      `invalid JSON (${visible((e as Error).message)})`,
    );
  }
  if (!Array.isArray(value)) {
    throw new DataFileError(path, null, "expected a JSON list of {question, solution} objects");
  }
  return value.map((e, i) => {
    if (
      typeof e !== "object" || e === null || typeof e.question !== "string" ||
      typeof e.solution !== "string"
    ) {
      throw new DataFileError(
        path,
        null,
        `entry ${i} must be an object with string fields question and solution`,
      );
    }
    return { question: e.question, solution: e.solution };
  });
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
