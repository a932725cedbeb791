/**
 * The rollout search (method.md section 2, Figure 1): from every prefix of an incorrect
 * trajectory, sample continuations and record the fraction that end correct; the rollout rule
 * turns those fractions into the critical token; the "without critical token" counterfactual
 * replaces it and continues. pass@k of both, averaged over trajectories, is Figure 1.
 *
 * @module
 */
import { hashSeed, Random } from "../random.ts";
import type { LanguageModel } from "../lm/mod.ts";
import type { ReasoningTask, TaskProblem } from "../tasks/task.ts";
import type { PassKRow, RolloutRow } from "../run/schema.ts";
import { meanPassAtK, powersOfTwoUpTo } from "./pass_at_k.ts";
import { correctPerItem, replaceAndContinue } from "./replacement.ts";
import { rolloutCriticalToken } from "./rollout_rule.ts";
import {
  correctness,
  type DecodeSettings,
  stripEos,
  type Trajectory,
  trajectoryIds,
} from "./trajectory.ts";

/** Options of {@linkcode rolloutTrajectory}. */
export interface RolloutOptions extends DecodeSettings {
  /** Continuations per prefix, and "without" completions (paper: 64). */
  samples: number;
  seed: number;
}

/** One searched trajectory: per-position rows and the with/without counts at its critical token. */
export interface RolloutResult {
  rows: RolloutRow[];
  critical: number | null;
  /** Correct continuations (of `samples`) that keep the critical token; 0 without one. */
  withCorrect: number;
  /** Correct completions (of `samples`) after replacing it; 0 without one. */
  withoutCorrect: number;
}

/** Rolls out one incorrect trajectory of `problem`. */
export async function rolloutTrajectory(
  lm: LanguageModel,
  task: ReasoningTask,
  problem: TaskProblem,
  t: Trajectory,
  options: RolloutOptions,
): Promise<RolloutResult> {
  const prompt = task.promptIds(lm, problem);
  const ids = trajectoryIds(t);
  const n = options.samples;
  // Prefix lengths 0..T: prefix length L keeps tokens 0..L-1, i.e. position L-1 included.
  const prefixes = Array.from({ length: ids.length + 1 }, (_, L) => ids.slice(0, L));
  const samples = await lm.sample({
    prompts: prefixes.map((prefix) => ({ tokens: prompt, forcedPrefix: prefix })),
    n,
    temperature: options.temperature,
    topP: options.topP,
    maxNewTokens: options.maxNewTokens,
    stopStrings: task.stopStrings,
    seed: hashSeed(options.seed, t.trajectory_id, "with"),
  });
  const correctCounts = new Array<number>(prefixes.length).fill(0);
  const verdicts = await correctness(
    task,
    lm,
    samples.map((s) => ({ problem, ids: [...prefixes[s.promptIndex], ...stripEos(lm, s.tokens)] })),
  );
  samples.forEach((s, k) => {
    if (verdicts[k]) correctCounts[s.promptIndex]++;
  });
  // correctness[i] for response position i is the prefix of length i + 1.
  const critical = rolloutCriticalToken(correctCounts.slice(1).map((c) => c / n));
  const [withoutCorrect] = critical === null ? [0] : correctPerItem(
    await replaceAndContinue(
      lm,
      task,
      [{ problem, response: ids, position: critical }],
      { ...options, n, seed: hashSeed(options.seed, t.trajectory_id, "without") },
    ),
    1,
  );
  const rows: RolloutRow[] = correctCounts.map((c, L) => ({
    trajectory_id: t.trajectory_id,
    position: L - 1,
    token: L === 0 ? "" : lm.detokenize([ids[L - 1]]),
    correctness: c / n,
    samples: n,
    is_critical: critical !== null && L - 1 === critical,
    is_first_error: t.first_error !== null && L - 1 === t.first_error,
  }));
  return {
    rows,
    critical,
    withCorrect: critical === null ? 0 : correctCounts[critical + 1],
    withoutCorrect,
  };
}

/** The incorrect trajectories to search: seeded, preferring those whose first error is known. */
export function rolloutCandidates(
  trajectories: readonly Trajectory[],
  count: number,
  seed: number,
): Trajectory[] {
  const incorrect = trajectories.filter((t) =>
    !t.correct && t.answer !== null && t.stop_reason !== "length"
  );
  const known = incorrect.filter((t) => t.first_error !== null);
  const pool = known.length >= count ? known : incorrect;
  return new Random(hashSeed(seed, "rollout-candidates")).shuffle(pool).slice(0, count);
}

/**
 * Figure 1's curves in percent: mean pass@k with the critical token kept and replaced, over the
 * trajectories that have a critical token; empty when none has.
 */
export function passKCurves(results: readonly RolloutResult[], samples: number): PassKRow[] {
  const found = results.filter((r) => r.critical !== null);
  if (found.length === 0) return [];
  const ks = powersOfTwoUpTo(samples);
  const withK = meanPassAtK(samples, found.map((r) => r.withCorrect), ks);
  const withoutK = meanPassAtK(samples, found.map((r) => r.withoutCorrect), ks);
  return ks.map((k, i) => ({
    k,
    with_critical: 100 * withK[i],
    without_critical: 100 * withoutK[i],
  }));
}
