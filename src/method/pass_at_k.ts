/**
 * The unbiased pass@k estimator: with n samples of which c are correct, the probability that at
 * least one of k samples drawn without replacement is correct, 1 - C(n-c, k) / C(n, k).
 *
 * @module
 */

/**
 * pass@k for one problem. Computed as a running product, 1 - prod_{i=n-c+1..n} (1 - k/i), which
 * avoids huge binomials.
 *
 * @example
 * ```ts
 * import { passAtK } from "./pass_at_k.ts";
 * // 1 correct of 2: one draw succeeds half the time.
 * if (passAtK(2, 1, 1) !== 0.5) throw new Error();
 * ```
 */
export function passAtK(n: number, c: number, k: number): number {
  if (!Number.isInteger(n) || n < 1) {
    throw new RangeError(`Cannot compute pass@k: n = ${n} must be an integer >= 1`);
  }
  if (!Number.isInteger(c) || c < 0 || c > n) {
    throw new RangeError(`Cannot compute pass@k: c = ${c} must be an integer in 0..n (n = ${n})`);
  }
  if (!Number.isInteger(k) || k < 1 || k > n) {
    throw new RangeError(`Cannot compute pass@k: k = ${k} must be an integer in 1..n (n = ${n})`);
  }
  if (n - c < k) return 1;
  let allWrong = 1;
  for (let i = n - c + 1; i <= n; i++) allWrong *= 1 - k / i;
  return 1 - allWrong;
}

/** The k values of a pass@k curve: 1, 2, 4, ... up to n (n itself included). */
export function powersOfTwoUpTo(n: number): number[] {
  const ks: number[] = [];
  for (let k = 1; k < n; k *= 2) ks.push(k);
  ks.push(n);
  return ks;
}

/** Mean pass@k over problems, for each k of `ks`; `correct[i]` of `n` samples were correct. */
export function meanPassAtK(
  n: number,
  correct: readonly number[],
  ks: readonly number[],
): number[] {
  if (correct.length === 0) throw new RangeError("Cannot average pass@k over zero problems");
  return ks.map((k) => correct.reduce((sum, c) => sum + passAtK(n, c, k), 0) / correct.length);
}
