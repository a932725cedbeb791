/**
 * The paired sign-flip permutation test on per-problem differences: under the null hypothesis
 * that two methods are exchangeable on every problem, each problem's difference d_i (method A's
 * mean outcome over its seeds minus method B's) is as likely to carry either sign, so the sum
 * S = sum_i d_i is compared with its distribution over all 2^n sign flips. Problems, not seeds,
 * are the units: the seeds of a problem are averaged first, so outcomes that share a problem are
 * never counted as independent evidence.
 *
 * The distribution is exact whenever the differences are multiples of a common step (means
 * over k seeds are multiples of 1/k): the sum's distribution is then a convolution over small
 * integers, computed by dynamic programming for any number of problems. Otherwise a seeded Monte
 * Carlo estimate is used.
 *
 * @module
 */
import { Random } from "../random.ts";

/** A p-value and how it was computed. */
export interface SignFlipResult {
  /** Two-sided: P(|S*| >= |S|) under random sign flips. */
  p: number;
  /** Mean difference per problem (A - B). */
  meanDifference: number;
  /** Problems with a non-zero difference (the others cannot change S). */
  informative: number;
  method: "exact" | "monte-carlo";
}

/** Options of {@linkcode signFlipTest}. */
export interface SignFlipOptions {
  /** Monte Carlo sign flips when the exact computation does not apply. @default {100000} */
  resamples?: number;
  seed?: number;
  /** Largest sum range (in steps) the exact computation may use. @default {4000000} */
  maxExactRange?: number;
}

/** The two-sided sign-flip test of per-problem differences `d` (A - B per problem). */
export function signFlipTest(d: readonly number[], options: SignFlipOptions = {}): SignFlipResult {
  if (d.length === 0) throw new RangeError("Cannot test: no paired problems");
  const nonzero = d.filter((x) => x !== 0);
  const meanDifference = d.reduce((s, x) => s + x, 0) / d.length;
  if (nonzero.length === 0) {
    return { p: 1, meanDifference, informative: 0, method: "exact" };
  }
  const integers = asIntegerSteps(nonzero);
  const maxRange = options.maxExactRange ?? 4_000_000;
  if (integers && integers.reduce((s, x) => s + Math.abs(x), 0) <= maxRange) {
    return { p: exactP(integers), meanDifference, informative: nonzero.length, method: "exact" };
  }
  return {
    p: monteCarloP(nonzero, options.resamples ?? 100_000, options.seed ?? 0),
    meanDifference,
    informative: nonzero.length,
    method: "monte-carlo",
  };
}

/**
 * Per-problem mean outcomes of two methods, paired by problem id: `a` and `b` hold (problem,
 * correct) outcomes over any number of seeds each; problems missing from either side are left
 * out. Returns the differences (A - B) in a fixed order (by problem id).
 */
export function perProblemDifferences(
  a: readonly { problem: string; correct: boolean }[],
  b: readonly { problem: string; correct: boolean }[],
): number[] {
  const mean = (rows: readonly { problem: string; correct: boolean }[]) => {
    const sums = new Map<string, [number, number]>();
    for (const r of rows) {
      const s = sums.get(r.problem) ?? [0, 0];
      s[0] += Number(r.correct);
      s[1]++;
      sums.set(r.problem, s);
    }
    return new Map([...sums].map(([k, [c, n]]) => [k, c / n]));
  };
  const ma = mean(a), mb = mean(b);
  return [...ma.keys()].filter((k) => mb.has(k)).sort().map((k) => ma.get(k)! - mb.get(k)!);
}

/**
 * The differences as integer multiples of the smallest step that makes them all integers, with
 * a denominator up to 60 (means over up to 60 seeds and their differences), else null.
 */
function asIntegerSteps(d: readonly number[]): number[] | null {
  for (let denominator = 1; denominator <= 60; denominator++) {
    const scaled = d.map((x) => x * denominator);
    if (scaled.every((x) => Math.abs(x - Math.round(x)) < 1e-9)) return scaled.map(Math.round);
  }
  return null;
}

/** Exact two-sided p of the sign-flip test for integer differences, by convolution. */
function exactP(d: readonly number[]): number {
  const observed = Math.abs(d.reduce((s, x) => s + x, 0));
  const total = d.reduce((s, x) => s + Math.abs(x), 0);
  // dist[s + total] = P(S* = s); each problem adds +|d_i| or -|d_i| with probability 1/2.
  let dist = new Float64Array(2 * total + 1);
  dist[total] = 1;
  let reach = 0; // |S*| can be at most the sum of |d| seen so far
  for (const x of d) {
    const step = Math.abs(x);
    const next = new Float64Array(dist.length);
    for (let s = total - reach; s <= total + reach; s++) {
      const p = dist[s];
      if (p === 0) continue;
      next[s + step] += p / 2;
      next[s - step] += p / 2;
    }
    dist = next;
    reach += step;
  }
  let p = 0;
  for (let s = 0; s < dist.length; s++) if (Math.abs(s - total) >= observed) p += dist[s];
  return Math.min(1, p);
}

/** Monte Carlo two-sided p with the add-one correction, so it is never 0. */
function monteCarloP(d: readonly number[], resamples: number, seed: number): number {
  const observed = Math.abs(d.reduce((s, x) => s + x, 0));
  const rng = new Random(seed);
  let extreme = 0;
  for (let r = 0; r < resamples; r++) {
    let s = 0;
    for (const x of d) s += rng.next() < 0.5 ? x : -x;
    // A tolerance so that floating-point sums equal to the observed one count as extreme.
    if (Math.abs(s) >= observed - 1e-9) extreme++;
  }
  return (extreme + 1) / (resamples + 1);
}
