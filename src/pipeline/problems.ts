/**
 * The problems of a run: its task, the training problems it samples, the validation problems it
 * tunes on (carved from the end of the train split, never sampled for training data) and the
 * test problems it evaluates on.
 *
 * @module
 */
import type { RunConfig } from "../run/config.ts";
import { generateSplits, type WorldSplits } from "../tasks/world/generator.ts";
import type { ReasoningTask, TaskProblem } from "../tasks/task.ts";
import { worldTask } from "../tasks/world_task.ts";
import { loadRealTask } from "../tasks/load_task.ts";
import type { Trainer } from "../trainer/client.ts";
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
  /** A real data set's policy directory (its tokenizer decides between its chat template and
   * the few-shot prompt) and the trainer (chat templates, MATH grading). */
  real?: { policyDir: string; trainer: () => Promise<Trainer> },
): Promise<RunProblems> {
  if (config.task.kind !== "world") {
    if (!real) {
      throw new Error(
        `Cannot load the ${config.task.kind} problems without the policy directory and a trainer`,
      );
    }
    return await loadRealTask({
      kind: config.task.kind,
      trainPath: config.task.trainPath!,
      testPath: config.task.testPath!,
      fewShotPath: config.task.fewShotPath,
      prompt: config.task.prompt,
      trainLines: config.task.trainLines,
      validationProblems: config.evaluation.validationProblems,
      trainProblems: config.sampling.problems,
      testProblems: config.evaluation.problems,
      modelDir: real.policyDir,
      trainer: real.trainer,
    });
  }
  const take = <T>(xs: readonly T[], n: number) => (n > 0 ? xs.slice(0, n) : xs.slice());
  const { params } = worldSettings(config);
  const splits = worldSplits ?? generateSplits(params, config.seed);
  const task = worldTask(params.delayedTrapRate > 0) as ReasoningTask;
  const trainSplit: TaskProblem[] = splits.train;
  const testSplit: TaskProblem[] = splits.test;
  const validationSize = Math.min(config.evaluation.validationProblems, trainSplit.length);
  const pool = trainSplit.slice(0, trainSplit.length - validationSize);
  return {
    task,
    train: take(pool, config.sampling.problems),
    validation: trainSplit.slice(trainSplit.length - validationSize),
    test: take(testSplit, config.evaluation.problems),
  };
}
