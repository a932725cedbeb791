/**
 * The rollout critical token (method.md, section 2). `correctness[i]` is the fraction of
 * continuations from the prefix that ends with token i (inclusive) that reach a correct answer.
 *
 * @module
 */

/** The default threshold: later positions must stay below 5% correct. */
export const LATER_CORRECTNESS_BELOW = 0.05;

/**
 * The rollout critical token. A run of drops starts at a position with correctness 0 and lasts
 * while later positions stay below `threshold`; a position at or above it ends the run (the
 * trajectory recovered). The critical token is the first position of the run that lasts to the
 * end (every later position below `threshold`). When every run ends in a recovery, it is the
 * first position of the last run, as the paper's reference code does; with no zero at all, null.
 */
export function rolloutCriticalToken(
  correctness: readonly number[],
  threshold: number = LATER_CORRECTNESS_BELOW,
): number | null {
  let run: number | null = null; // first position of the run in progress
  let lastRecovered: number | null = null; // first position of the last run that ended
  for (let i = 0; i < correctness.length; i++) {
    if (run === null) {
      if (correctness[i] === 0) run = i;
    } else if (correctness[i] >= threshold) {
      lastRecovered = run;
      run = null;
    }
  }
  return run ?? lastRecovered;
}
