/**
 * Replacing a token and continuing (method.md section 2, "without critical token", and
 * Figure 5): keep a trajectory's response up to a position, ban the token it had there, let the
 * policy draw another token and complete the response; count the completions that end correct.
 *
 * @module
 */
import type { LanguageModel } from "../lm/mod.ts";
import type { ReasoningTask, TaskProblem } from "../tasks/task.ts";
import { type DecodeSettings, isCorrect, stripEos } from "./trajectory.ts";

/** One response whose token at `position` is replaced. */
export interface Replacement {
  problem: TaskProblem;
  /** Response token ids (end-of-sequence removed). */
  response: readonly number[];
  /** The position whose token is banned; tokens before it are kept. */
  position: number;
}

/** Options of {@linkcode replaceAndContinue}. */
export interface ReplaceOptions extends DecodeSettings {
  /** Completions per replacement. */
  n: number;
  seed: number;
}

/** For each replacement, how many of its `n` completions end correct. */
export async function replaceAndContinue(
  lm: LanguageModel,
  task: ReasoningTask,
  items: readonly Replacement[],
  options: ReplaceOptions,
): Promise<number[]> {
  const samples = await lm.sample({
    prompts: items.map((it) => ({
      tokens: task.promptIds(lm, it.problem),
      forcedPrefix: it.response.slice(0, it.position),
      maskFirst: [it.response[it.position]],
    })),
    n: options.n,
    temperature: options.temperature,
    topP: options.topP,
    maxNewTokens: options.maxNewTokens,
    stopStrings: task.stopStrings,
    seed: options.seed,
  });
  const correct = new Array<number>(items.length).fill(0);
  for (const s of samples) {
    const it = items[s.promptIndex];
    const full = [...it.response.slice(0, it.position), ...stripEos(lm, s.tokens)];
    if (isCorrect(task, lm, it.problem, full)) correct[s.promptIndex]++;
  }
  return correct;
}
