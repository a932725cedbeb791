/**
 * McNemar's exact test on paired binary outcomes: under the null hypothesis the discordant pairs
 * split like fair coin flips, so p = min(1, 2 P(X <= min(b, c))) with X ~ Binomial(b + c, 1/2).
 *
 * @module
 */

/** Discordant counts of two paired correctness vectors: b = A right B wrong, c = A wrong B right. */
export function discordantCounts(
  a: readonly boolean[],
  b: readonly boolean[],
): { b: number; c: number } {
  if (a.length !== b.length) {
    throw new RangeError(`Cannot pair outcomes: ${a.length} and ${b.length} questions`);
  }
  let onlyA = 0, onlyB = 0;
  for (let i = 0; i < a.length; i++) {
    if (a[i] && !b[i]) onlyA++;
    else if (!a[i] && b[i]) onlyB++;
  }
  return { b: onlyA, c: onlyB };
}

/** Two-sided exact McNemar p-value. */
export function mcnemarExactP(a: readonly boolean[], b: readonly boolean[]): number {
  const d = discordantCounts(a, b);
  const n = d.b + d.c;
  if (n === 0) return 1;
  const k = Math.min(d.b, d.c);
  // Sum binomial pmf terms in log space so large n does not underflow or overflow.
  let logCoef = -n * Math.LN2; // log C(n, 0) / 2^n
  let cdf = Math.exp(logCoef);
  for (let i = 1; i <= k; i++) {
    logCoef += Math.log(n - i + 1) - Math.log(i);
    cdf += Math.exp(logCoef);
  }
  return Math.min(1, 2 * cdf);
}
