/**
 * The token selection rule and log-softmax helpers. `trainer/cdpo_trainer/lm_ops.py`
 * (`select_token`) is this file's twin: both backends pick the same token from the same logits
 * and the same uniform number.
 * @module
 */

/** Reusable scratch space for {@linkcode selectToken} (avoids allocating per step). */
export class SelectScratch {
  weights: Float64Array;
  order: Int32Array;
  csum: Float64Array;
  constructor(vocab: number) {
    this.weights = new Float64Array(vocab);
    this.order = new Int32Array(vocab);
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
  const order = scratch.order;
  const csum = scratch.csum;
  for (let v = 0; v < vocab; v++) order[v] = v;
  let kept = vocab;
  if (topP < 1) {
    order.sort((a, b) => (w[b] - w[a]) || (a - b));
    let acc = 0;
    for (let k = 0; k < vocab; k++) {
      acc += w[order[k]];
      csum[k] = acc;
    }
    const threshold = topP * csum[vocab - 1];
    kept = 1;
    while (kept < vocab && csum[kept - 1] < threshold) kept++;
  } else {
    let acc = 0;
    for (let k = 0; k < vocab; k++) {
      acc += w[k];
      csum[k] = acc;
    }
  }
  const target = u * csum[kept - 1];
  let idx = 0;
  while (idx < kept && csum[idx] <= target) idx++;
  if (idx >= kept) idx = kept - 1;
  // Never land on a zero-weight token (only possible when u * mass rounds onto a plateau).
  while (w[order[idx]] === 0 && idx > 0) idx--;
  return order[idx];
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
