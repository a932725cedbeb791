/**
 * Scoring detectors of critical tokens against the world's ground-truth first-error token.
 * A detector ranks a trajectory's response positions (most suspicious first); it hits top-1 when
 * its first position is the first error, within-1 when that position is at most one token away,
 * and top-3 when the first error is among its first three.
 *
 * @module
 */

/** One trajectory's ranking by a detector, with the true first-error index. */
export interface DetectorCase {
  ranking: readonly number[];
  firstError: number;
}

/** Hit rates of a detector, as fractions in [0, 1]. */
export interface HitRates {
  top1: number;
  within1: number;
  top3: number;
  n: number;
}

/** Aggregates hit rates over cases; n = 0 gives NaN rates (reported as empty, never as 0). */
export function hitRates(cases: readonly DetectorCase[]): HitRates {
  let top1 = 0, within1 = 0, top3 = 0;
  for (const c of cases) {
    if (c.ranking.length === 0) continue;
    if (c.ranking[0] === c.firstError) top1++;
    if (Math.abs(c.ranking[0] - c.firstError) <= 1) within1++;
    if (c.ranking.slice(0, 3).includes(c.firstError)) top3++;
  }
  const n = cases.length;
  return { top1: top1 / n, within1: within1 / n, top3: top3 / n, n };
}

/** Positions sorted by ascending score (ties: earliest first). */
export function rankAscending(scores: ArrayLike<number>): number[] {
  return Array.from({ length: scores.length }, (_, i) => i).sort((a, b) =>
    scores[a] - scores[b] || a - b
  );
}
