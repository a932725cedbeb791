/**
 * The Wilson score interval of a binomial proportion: the set of proportions p for which the
 * observed share is within z standard errors, sqrt(p (1 - p) / n). Unlike the normal
 * approximation it stays inside [0, 1] and is sensible at 0% and 100%.
 *
 * @module
 */

/** A (1 - alpha) interval of a proportion observed as `share` of `n` (z = 1.96 for 95%). */
export function wilsonInterval(share: number, n: number, z = 1.959963984540054): [number, number] {
  if (!(n > 0) || !(share >= 0 && share <= 1)) {
    throw new RangeError(`Cannot compute a Wilson interval for ${share} of ${n}`);
  }
  const z2 = z * z;
  const centre = (share + z2 / (2 * n)) / (1 + z2 / n);
  const half = (z / (1 + z2 / n)) * Math.sqrt((share * (1 - share)) / n + z2 / (4 * n * n));
  return [Math.max(0, centre - half), Math.min(1, centre + half)];
}
