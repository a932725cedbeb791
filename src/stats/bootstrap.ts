/**
 * Paired bootstrap confidence interval of an accuracy difference: resample questions with
 * replacement (the same indices for both methods) and take percentiles of the mean difference.
 * Several outcomes per question (seeds) are resampled together as one cluster.
 *
 * @module
 */
import { Random } from "../random.ts";

/**
 * A (1 - alpha) percentile interval of mean(a) - mean(b) in points (0..100 scale).
 *
 * With `clusters` (one label per outcome, e.g. the problem id when several seeds were evaluated
 * on the same problems) whole clusters are resampled, so outcomes that share a problem are not
 * treated as independent. With one outcome per cluster this is the plain paired bootstrap.
 */
export function pairedBootstrapCI(
  a: readonly boolean[],
  b: readonly boolean[],
  options: { resamples?: number; alpha?: number; seed?: number; clusters?: readonly string[] } = {},
): { low: number; high: number; difference: number } {
  const n = a.length;
  if (n === 0 || b.length !== n) {
    throw new RangeError(
      `Cannot bootstrap: need two equally long, non-empty outcome lists (got ${n} and ${b.length})`,
    );
  }
  if (options.clusters && options.clusters.length !== n) {
    throw new RangeError(
      `Cannot bootstrap: ${options.clusters.length} cluster labels for ${n} outcomes`,
    );
  }
  const resamples = options.resamples ?? 2000;
  const alpha = options.alpha ?? 0.05;
  const rng = new Random(options.seed ?? 0);
  // Per cluster: the summed difference and the number of outcomes (clusters in first-seen order).
  const index = new Map<string, number>();
  const sums: number[] = [], counts: number[] = [];
  for (let i = 0; i < n; i++) {
    const label = options.clusters ? options.clusters[i] : String(i);
    let c = index.get(label);
    if (c === undefined) {
      c = sums.length;
      index.set(label, c);
      sums.push(0);
      counts.push(0);
    }
    sums[c] += Number(a[i]) - Number(b[i]);
    counts[c]++;
  }
  const k = sums.length;
  const means = new Float64Array(resamples);
  for (let r = 0; r < resamples; r++) {
    let sum = 0, count = 0;
    for (let j = 0; j < k; j++) {
      const c = rng.int(0, k - 1);
      sum += sums[c];
      count += counts[c];
    }
    means[r] = (100 * sum) / count;
  }
  means.sort();
  const at = (q: number) => means[Math.min(resamples - 1, Math.max(0, Math.floor(q * resamples)))];
  const difference = (100 * sums.reduce((s, x) => s + x, 0)) / n;
  return { low: at(alpha / 2), high: at(1 - alpha / 2), difference };
}
