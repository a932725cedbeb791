/**
 * The problems of a run: its task, the training problems it samples, the validation problems it
 * tunes on (carved from the end of the train split, never sampled for training data) and the
 * test problems it evaluates on.
 *
 * @module
 */
import { kitPaths } from "../paths.ts";
import type { RunConfig } from "../run/config.ts";
import { generateSplits, type WorldSplits } from "../tasks/world/generator.ts";
import type { ReasoningTask, TaskProblem } from "../tasks/task.ts";
import { worldTask } from "../tasks/world_task.ts";
import { type FewShotExample, gsm8kTask, readGsm8kJsonl } from "../tasks/gsm8k_task.ts";
import { worldSettings } from "./world_build.ts";

/** A run's task and problem sets. */
export interface RunProblems {
  task: ReasoningTask;
  /** Sampled for preference and fine-tuning data. */
  train: TaskProblem[];
  /** Held out of training for choosing hyper-parameters (`deno task tune`). */
  validation: TaskProblem[];
  /** Evaluated (Table 1, Figure 5); never used to choose anything. */
  test: TaskProblem[];
}

/**
 * The run's problems: the last `evaluation.validationProblems` of the train split are the
 * validation set; of the rest, the first `sampling.problems` are sampled (0 = all); the first
 * `evaluation.problems` of the test split are evaluated (0 = all).
 */
export async function loadProblems(
  config: RunConfig,
  /** The world's splits when already generated (the world build makes them). */
  worldSplits?: WorldSplits,
): Promise<RunProblems> {
  const take = <T>(xs: readonly T[], n: number) => (n > 0 ? xs.slice(0, n) : xs.slice());
  let task: ReasoningTask, trainSplit: TaskProblem[], testSplit: TaskProblem[];
  if (config.task.kind === "gsm8k") {
    const fewShotPath = config.task.fewShotPath ?? `${kitPaths.data}/fewshot/gsm8k.json`;
    const examples = JSON.parse(await Deno.readTextFile(fewShotPath)) as FewShotExample[];
    task = gsm8kTask(examples);
    trainSplit = await readGsm8kJsonl(config.task.trainPath!, "train");
    testSplit = await readGsm8kJsonl(config.task.testPath!, "test");
  } else {
    const splits = worldSplits ?? generateSplits(worldSettings(config).params, config.seed);
    task = worldTask as ReasoningTask;
    trainSplit = splits.train;
    testSplit = splits.test;
  }
  const validationSize = Math.min(config.evaluation.validationProblems, trainSplit.length);
  const pool = trainSplit.slice(0, trainSplit.length - validationSize);
  return {
    task,
    train: take(pool, config.sampling.problems),
    validation: trainSplit.slice(trainSplit.length - validationSize),
    test: take(testSplit, config.evaluation.problems),
  };
}
