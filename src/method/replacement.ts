/**
 * Replacing a token and continuing (method.md section 2, "without critical token", and
 * Figure 5): keep a trajectory's response up to a position, draw another token there from the
 * policy's next-token distribution with the original token masked out, at temperature 1 (as the
 * paper and its reference code do, whatever the sampling temperature), then let the policy
 * complete the response with the run's sampling settings; count the completions that end
 * correct.
 *
 * @module
 */
import { hashSeed } from "../random.ts";
import type { LanguageModel, Sample } from "../lm/mod.ts";
import type { ReasoningTask, TaskProblem } from "../tasks/task.ts";
import { correctness, type DecodeSettings, stripEos } from "./trajectory.ts";

/** The temperature the alternative token is drawn at (method.md section 2). */
export const ALTERNATIVE_TEMPERATURE = 1;

/** One response whose token at `position` is replaced. */
export interface Replacement {
  problem: TaskProblem;
  /** Response token ids (end-of-sequence removed). */
  response: readonly number[];
  /** The position whose token is banned; tokens before it are kept. */
  position: number;
}

/** Options of {@linkcode replaceAndContinue}: the completion's settings, and how many per item. */
export interface ReplaceOptions extends DecodeSettings {
  /** Completions per replacement. */
  n: number;
  seed: number;
}

/** One completion after a replacement. */
export interface ReplacedCompletion {
  /** Which replacement (index into the items). */
  item: number;
  /** The alternative token drawn at the replaced position. */
  alternative: number;
  /** The whole response: the kept prefix, the alternative, then the completion (no EOS). */
  response: number[];
  correct: boolean;
}

/** For each replacement, `n` alternatives and their completions, graded. */
export async function replaceAndContinue(
  lm: LanguageModel,
  task: ReasoningTask,
  items: readonly Replacement[],
  options: ReplaceOptions,
): Promise<ReplacedCompletion[]> {
  const prompts = items.map((it) => task.promptIds(lm, it.problem));
  // Step 1: the alternatives, one token each, at temperature 1 without nucleus truncation.
  const alternatives = await lm.sample({
    prompts: items.map((it, i) => ({
      tokens: prompts[i],
      forcedPrefix: it.response.slice(0, it.position),
      maskFirst: [it.response[it.position]],
    })),
    n: options.n,
    temperature: ALTERNATIVE_TEMPERATURE,
    topP: 1,
    maxNewTokens: 1,
    stopStrings: task.stopStrings,
    seed: hashSeed(options.seed, "alternative"),
  });
  // Step 2: complete every alternative that did not end the response, with the run's settings.
  const open = alternatives.filter((a) => a.stopReason === "length");
  const completions = new Map<Sample, number[]>();
  if (open.length > 0 && options.maxNewTokens > 1) {
    const continued = await lm.sample({
      prompts: open.map((a) => ({
        tokens: prompts[a.promptIndex],
        forcedPrefix: [
          ...items[a.promptIndex].response.slice(0, items[a.promptIndex].position),
          a.tokens[0],
        ],
      })),
      n: 1,
      temperature: options.temperature,
      topP: options.topP,
      maxNewTokens: options.maxNewTokens - 1,
      stopStrings: task.stopStrings,
      seed: hashSeed(options.seed, "completion"),
    });
    for (const c of continued) completions.set(open[c.promptIndex], c.tokens);
  }
  const responses = alternatives.map((a) => {
    const it = items[a.promptIndex];
    return stripEos(lm, [
      ...it.response.slice(0, it.position),
      a.tokens[0],
      ...(completions.get(a) ?? []),
    ]);
  });
  const correct = await correctness(
    task,
    lm,
    alternatives.map((a, k) => ({ problem: items[a.promptIndex].problem, ids: responses[k] })),
  );
  return alternatives.map((a, k) => ({
    item: a.promptIndex,
    alternative: a.tokens[0],
    response: responses[k],
    correct: correct[k],
  }));
}

/** How many of each item's completions ended correct. */
export function correctPerItem(
  completions: readonly ReplacedCompletion[],
  items: number,
): number[] {
  const counts = new Array<number>(items).fill(0);
  for (const c of completions) if (c.correct) counts[c.item]++;
  return counts;
}
