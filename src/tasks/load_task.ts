/**
 * A real data set's task and problems for one run: GSM8K or MATH500 read from local JSONL, with
 * the prompts the policy needs (its chat template, or the few-shot prompt) rendered once.
 *
 * @module
 */
import { join } from "node:path";
import { kitPaths } from "../paths.ts";
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
  /** First problems of each split to use (after trainLines); 0 = all. */
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

/** Reads a few-shot file: a JSON list of {question, solution} strings. */
export async function readFewShot(path: string): Promise<FewShotExample[]> {
  let examples: unknown;
  try {
    examples = JSON.parse(await Deno.readTextFile(path));
  } catch (e) {
    throw new Error(`Cannot read few-shot examples ${path}: ${(e as Error).message}`);
  }
  if (!Array.isArray(examples)) {
    throw new Error(`Cannot read few-shot examples ${path}: expected a JSON list`);
  }
  examples.forEach((e, i) => {
    if (typeof e?.question !== "string" || typeof e?.solution !== "string") {
      throw new Error(
        `Cannot read few-shot examples ${path}: entry ${i} needs string fields "question" and "solution"`,
      );
    }
  });
  return examples as FewShotExample[];
}

/** The task and the first problems of each split. */
export async function loadRealTask(
  options: RealTaskOptions,
): Promise<{ task: ReasoningTask; train: TaskProblem[]; test: TaskProblem[] }> {
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
  const train = take(chosen, options.trainProblems);
  const test = take(await read(options.testPath, "test"), options.testProblems);
  const prompts = await TaskPrompts.build({
    style: options.prompt,
    format: options.kind === "gsm8k" ? GSM8K_PROMPT : MATH_PROMPT,
    examples: await readFewShot(options.fewShotPath ?? defaultFewShotPath(options.kind)),
    problems: [...train, ...test],
    modelDir: options.modelDir,
    trainer: options.trainer,
  });
  const task = options.kind === "gsm8k"
    ? gsm8kTask(prompts)
    : math500Task(prompts, mathTextGrader(options.trainer));
  return { task, train, test };
}
