/**
 * Paired bootstrap confidence interval of an accuracy difference: resample questions with
 * replacement (the same indices for both methods) and take percentiles of the mean difference.
 *
 * @module
 */
import { Random } from "../random.ts";

/** A (1 - alpha) percentile interval of mean(a) - mean(b) in points (0..100 scale). */
export function pairedBootstrapCI(
  a: readonly boolean[],
  b: readonly boolean[],
  options: { resamples?: number; alpha?: number; seed?: number } = {},
): { low: number; high: number; difference: number } {
  const n = a.length;
  if (n === 0 || b.length !== n) {
    throw new RangeError(
      `Cannot bootstrap: need two equally long, non-empty outcome lists (got ${n} and ${b.length})`,
    );
  }
  const resamples = options.resamples ?? 2000;
  const alpha = options.alpha ?? 0.05;
  const rng = new Random(options.seed ?? 0);
  const diff = Int8Array.from({ length: n }, (_, i) => Number(a[i]) - Number(b[i]));
  const means = new Float64Array(resamples);
  for (let r = 0; r < resamples; r++) {
    let sum = 0;
    for (let i = 0; i < n; i++) sum += diff[rng.int(0, n - 1)];
    means[r] = (100 * sum) / n;
  }
  means.sort();
  const at = (q: number) => means[Math.min(resamples - 1, Math.max(0, Math.floor(q * resamples)))];
  const difference = (100 * diff.reduce((s, x) => s + x, 0)) / n;
  return { low: at(alpha / 2), high: at(1 - alpha / 2), difference };
}
