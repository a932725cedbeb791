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
import { keepNothing, type KeepPiece } from "./keep_piece.ts";
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
  /**
   * Sampled rows (prefixes x samples) per request: the search is cut into pieces of at least
   * one prefix each, every piece continuing the whole request's seeded streams. Default: one
   * piece for the whole trajectory.
   */
  rowsPerPiece?: number;
  /** Where pieces are kept (raw samples before grading; the "without" completions). */
  keep?: KeepPiece;
  /** Called after each piece with the prefixes searched so far (the "without" arm counts one). */
  onPiece?: (done: number) => void;
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

/** The units of progress {@linkcode rolloutTrajectory} reports for `t`: its prefixes, and the "without" arm. */
export function rolloutWork(t: Trajectory): number {
  return trajectoryIds(t).length + 2;
}

/** Rolls out one incorrect trajectory of `problem`. */
export async function rolloutTrajectory(
  lm: LanguageModel,
  task: ReasoningTask,
  problem: TaskProblem,
  t: Trajectory,
  options: RolloutOptions,
): Promise<RolloutResult> {
  const keep = options.keep ?? keepNothing;
  const prompt = task.promptIds(lm, problem);
  const ids = trajectoryIds(t);
  const n = options.samples;
  // Prefix lengths 0..T: prefix length L keeps tokens 0..L-1, i.e. position L-1 included.
  const prefixes = Array.from({ length: ids.length + 1 }, (_, L) => ids.slice(0, L));
  const perPiece = Math.max(1, Math.floor((options.rowsPerPiece ?? Infinity) / n));
  const seed = hashSeed(options.seed, t.trajectory_id, "with");
  const correctCounts = new Array<number>(prefixes.length).fill(0);
  for (let start = 0; start < prefixes.length; start += perPiece) {
    const piece = prefixes.slice(start, start + perPiece);
    // Raw samples are kept before grading: a grading failure never costs the sampling.
    const samples = await keep(`with-${start}-raw`, () =>
      lm.sample({
        prompts: piece.map((prefix) => ({ tokens: prompt, forcedPrefix: prefix })),
        n,
        temperature: options.temperature,
        topP: options.topP,
        maxNewTokens: options.maxNewTokens,
        stopStrings: task.stopStrings,
        seed,
        firstPromptIndex: start,
      }));
    const verdicts = await correctness(
      task,
      lm,
      samples.map((s) => ({ problem, ids: [...piece[s.promptIndex], ...stripEos(lm, s.tokens)] })),
    );
    samples.forEach((s, k) => {
      if (verdicts[k]) correctCounts[start + s.promptIndex]++;
    });
    options.onPiece?.(start + piece.length);
  }
  // correctness[i] for response position i is the prefix of length i + 1.
  const critical = rolloutCriticalToken(correctCounts.slice(1).map((c) => c / n));
  const [withoutCorrect] = critical === null ? [0] : correctPerItem(
    await keep("without", () =>
      replaceAndContinue(
        lm,
        task,
        [{ problem, response: ids, position: critical }],
        { ...options, n, seed: hashSeed(options.seed, t.trajectory_id, "without") },
      )),
    1,
  );
  options.onPiece?.(prefixes.length + 1);
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
