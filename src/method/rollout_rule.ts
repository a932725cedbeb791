/**
 * The rollout critical token (method.md, section 2). `correctness[i]` is the fraction of
 * continuations from the prefix that ends with token i (inclusive) that reach a correct answer.
 *
 * @module
 */

/** The default threshold: later positions must stay below 5% correct. */
export const LATER_CORRECTNESS_BELOW = 0.05;

/**
 * The first position i with correctness 0 after which every later position stays below
 * `threshold`; failing that, the last position with correctness 0; failing that, null.
 */
export function rolloutCriticalToken(
  correctness: readonly number[],
  threshold: number = LATER_CORRECTNESS_BELOW,
): number | null {
  // suffixMax[i] = max correctness over positions after i.
  const suffixMax = new Array<number>(correctness.length).fill(0);
  for (let i = correctness.length - 2; i >= 0; i--) {
    suffixMax[i] = Math.max(suffixMax[i + 1], correctness[i + 1]);
  }
  let lastZero: number | null = null;
  for (let i = 0; i < correctness.length; i++) {
    if (correctness[i] !== 0) continue;
    if (suffixMax[i] < threshold) return i;
    lastZero = i;
  }
  return lastZero;
}
