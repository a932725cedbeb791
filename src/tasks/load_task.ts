/**
 * A real data set's task and problems for one run: GSM8K or MATH500 read from local JSONL, with
 * the prompts the policy needs (its chat template, or the few-shot prompt) rendered once.
 *
 * @module
 */
import { join } from "node:path";
import { kitPaths } from "../paths.ts";
import { DataFileError } from "../io/data_file_error.ts";
import { decodeUtf8Strict, Utf8Error } from "../io/utf8.ts";
import { visible } from "../io/visible.ts";
import { jsonErrorPosition } from "../config/json_file.ts";
import type { Trainer } from "../trainer/client.ts";
import { gsm8kTask, readGsm8kJsonl } from "./gsm8k_task.ts";
import { math500Task, mathTextGrader, readMathJsonl } from "./math500_task.ts";
import {
  type FewShotExample,
  GSM8K_PROMPT,
  MATH_PROMPT,
  type PromptStyle,
  TaskPrompts,
} from "./prompts.ts";
import type { ReasoningTask, TaskProblem } from "./task.ts";

/** The real tasks. */
export type RealTaskKind = "gsm8k" | "math500";

/** What {@linkcode loadRealTask} needs. */
export interface RealTaskOptions {
  kind: RealTaskKind;
  trainPath: string;
  testPath: string;
  /** Few-shot examples (JSON list of {question, solution}); null: the kit's for the task. */
  fewShotPath: string | null;
  prompt: PromptStyle | "auto";
  /** Training problems by 1-based line number of trainPath (null: all, in order). */
  trainLines: readonly number[] | null;
  /** Problems at the end of the (chosen) train split held out for tuning, never sampled. */
  validationProblems: number;
  /** First problems of each split to use (after trainLines and validation); 0 = all. */
  trainProblems: number;
  testProblems: number;
  /** The policy's Hugging Face directory (its tokenizer decides chat or few-shot). */
  modelDir: string;
  trainer: () => Promise<Trainer>;
}

/** The kit's few-shot examples of each task (data/fewshot/). */
export function defaultFewShotPath(kind: RealTaskKind): string {
  return join(kitPaths.data, "fewshot", kind === "gsm8k" ? "gsm8k.json" : "math.json");
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

/** The task and the first problems of each split. */
export async function loadRealTask(
  options: RealTaskOptions,
): Promise<
  { task: ReasoningTask; train: TaskProblem[]; validation: TaskProblem[]; test: TaskProblem[] }
> {
  const take = (xs: TaskProblem[], n: number) => (n > 0 ? xs.slice(0, n) : xs);
  const read = options.kind === "gsm8k" ? readGsm8kJsonl : readMathJsonl;
  const all = await read(options.trainPath, "train");
  const chosen = options.trainLines === null ? all : options.trainLines.map((line) => {
    if (line > all.length) {
      throw new RangeError(
        `Cannot choose line ${line} of ${options.trainPath}: it has ${all.length} problems ` +
          "(task.trainLines)",
      );
    }
    return all[line - 1];
  });
  const validationSize = Math.min(options.validationProblems, chosen.length);
  const validation = chosen.slice(chosen.length - validationSize);
  const train = take(chosen.slice(0, chosen.length - validationSize), options.trainProblems);
  if (train.length === 0) {
    throw new RangeError(
      `Cannot train on ${options.trainPath}: its ${chosen.length} chosen problems are all ` +
        `held out for validation (evaluation.validationProblems ${options.validationProblems})`,
    );
  }
  const test = take(await read(options.testPath, "test"), options.testProblems);
  const prompts = await TaskPrompts.build({
    style: options.prompt,
    format: options.kind === "gsm8k" ? GSM8K_PROMPT : MATH_PROMPT,
    examples: await readFewShot(options.fewShotPath ?? defaultFewShotPath(options.kind)),
    problems: [...train, ...validation, ...test],
    modelDir: options.modelDir,
    trainer: options.trainer,
  });
  const task = options.kind === "gsm8k"
    ? gsm8kTask(prompts)
    : math500Task(prompts, mathTextGrader(options.trainer));
  return { task, train, validation, test };
}
