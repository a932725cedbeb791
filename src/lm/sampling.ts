/**
 * The token selection rule and log-softmax helpers. `trainer/cdpo_trainer/lm/select.py`
 * (`select_token`) is this file's twin: both backends pick the same token from the same logits
 * and the same uniform number.
 * @module
 */

/** Reusable scratch space for {@linkcode selectToken} (avoids allocating per step). */
export class SelectScratch {
  weights: Float64Array;
  /** Negated weights, sorted ascending (= weights descending) by the engine's numeric sort. */
  sorted: Float64Array;
  csum: Float64Array;
  constructor(vocab: number) {
    this.weights = new Float64Array(vocab);
    this.sorted = new Float64Array(vocab);
    this.csum = new Float64Array(vocab);
  }
}

/**
 * Picks a token from `logits[offset .. offset + vocab)`.
 *
 * Temperature 0: argmax (lowest id on ties). Otherwise weights w = exp((z - max) / T) in float64;
 * with topP < 1 the candidates are ordered by weight (ties by id) and cut to the shortest prefix
 * whose running sum reaches topP of the total; then the first candidate whose running sum exceeds
 * `u` times the kept mass wins. With topP >= 1 candidates are walked in id order. Banned ids have
 * weight 0.
 */
export function selectToken(
  logits: Float32Array,
  offset: number,
  vocab: number,
  temperature: number,
  topP: number,
  banned: readonly number[],
  u: number,
  scratch: SelectScratch = new SelectScratch(vocab),
): number {
  const bannedSet = banned.length ? new Set(banned) : null;
  let max = -Infinity;
  let argmax = -1;
  for (let v = 0; v < vocab; v++) {
    if (bannedSet?.has(v)) continue;
    const z = logits[offset + v];
    if (z > max) {
      max = z;
      argmax = v;
    }
  }
  if (argmax < 0) throw new RangeError("Cannot select a token: every token is banned");
  if (temperature === 0) return argmax;
  const w = scratch.weights;
  for (let v = 0; v < vocab; v++) {
    w[v] = bannedSet?.has(v) ? 0 : Math.exp((logits[offset + v] - max) / temperature);
  }
  const csum = scratch.csum;
  if (topP >= 1) {
    let acc = 0;
    for (let k = 0; k < vocab; k++) {
      acc += w[k];
      csum[k] = acc;
    }
    const target = u * csum[vocab - 1];
    let idx = 0;
    while (idx < vocab && csum[idx] <= target) idx++;
    if (idx >= vocab) idx = vocab - 1;
    // Never land on a zero-weight token (only possible when u * mass rounds onto a plateau).
    while (w[idx] === 0 && idx > 0) idx--;
    return idx;
  }
  // Weights in descending order without sorting ids: the running sums only see weight values, and
  // equal weights are interchangeable in them, so the (weight desc, id asc) order is recovered
  // for the one winning position only (its rank among equal weights picks the id).
  const sorted = scratch.sorted;
  for (let v = 0; v < vocab; v++) sorted[v] = -w[v];
  sorted.sort();
  let acc = 0;
  for (let k = 0; k < vocab; k++) {
    acc -= sorted[k];
    csum[k] = acc;
  }
  const threshold = topP * csum[vocab - 1];
  let kept = 1;
  while (kept < vocab && csum[kept - 1] < threshold) kept++;
  const target = u * csum[kept - 1];
  let idx = 0;
  while (idx < kept && csum[idx] <= target) idx++;
  if (idx >= kept) idx = kept - 1;
  while (sorted[idx] === 0 && idx > 0) idx--;
  const value = -sorted[idx];
  let rank = 0;
  while (idx - rank > 0 && sorted[idx - rank - 1] === sorted[idx]) rank++;
  for (let v = 0; v < vocab; v++) {
    if (w[v] === value && rank-- === 0) return v;
  }
  throw new Error(`Cannot select a token: weight ${value} vanished (internal error)`);
}

/** log(sum(exp(row))) of `logits[offset .. offset + vocab)`, in float64. */
export function logSumExp(logits: Float32Array, offset: number, vocab: number): number {
  let max = -Infinity;
  for (let v = 0; v < vocab; v++) if (logits[offset + v] > max) max = logits[offset + v];
  let sum = 0;
  for (let v = 0; v < vocab; v++) sum += Math.exp(logits[offset + v] - max);
  return max + Math.log(sum);
}

/** Writes the log-softmax of one logits row into `out[outOffset ..]`. */
export function logSoftmaxInto(
  logits: Float32Array,
  offset: number,
  vocab: number,
  out: Float32Array,
  outOffset: number,
): void {
  const lse = logSumExp(logits, offset, vocab);
  for (let v = 0; v < vocab; v++) out[outOffset + v] = logits[offset + v] - lse;
}
