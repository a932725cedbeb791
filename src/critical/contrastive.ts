/**
 * Contrastive estimation (method.md, section 3). At each response position t, with the positive
 * and negative models' log-probabilities over the vocabulary,
 *   s_t = softmax_v((1 + beta) lp_pos(v) - beta lp_neg(v)) evaluated at the realised token y_t.
 * Log-probs differ from logits by a per-position constant, which the softmax removes, so
 * log-probs serve as well as logits. Computed in float64 (the reference code used bf16).
 *
 * @module
 */

/**
 * s_t for every position. `pos` and `neg` are [T, V] row-major log-prob matrices, `tokens` the
 * T realised tokens.
 */
export function contrastiveScores(
  pos: Float32Array,
  neg: Float32Array,
  tokens: readonly number[],
  vocabSize: number,
  beta = 1,
): Float64Array {
  const T = tokens.length;
  if (pos.length !== T * vocabSize || neg.length !== T * vocabSize) {
    throw new RangeError(
      `Cannot compute contrastive scores: expected [${T}, ${vocabSize}] log-probs, got ${pos.length} and ${neg.length} values`,
    );
  }
  const out = new Float64Array(T);
  for (let t = 0; t < T; t++) {
    const row = t * vocabSize;
    let max = -Infinity;
    for (let v = 0; v < vocabSize; v++) {
      const z = (1 + beta) * pos[row + v] - beta * neg[row + v];
      if (z > max) max = z;
    }
    let sum = 0;
    for (let v = 0; v < vocabSize; v++) {
      sum += Math.exp((1 + beta) * pos[row + v] - beta * neg[row + v] - max);
    }
    const y = tokens[t];
    if (!(y >= 0 && y < vocabSize)) {
      throw new RangeError(`Cannot score token ${y} at position ${t}: outside the vocabulary`);
    }
    out[t] = Math.exp((1 + beta) * pos[row + y] - beta * neg[row + y] - max) / sum;
  }
  return out;
}

/** The index of the smallest score (the "CE critical token"); ties go to the earliest. */
export function argmin(scores: ArrayLike<number>): number {
  let best = 0;
  for (let i = 1; i < scores.length; i++) if (scores[i] < scores[best]) best = i;
  return best;
}

/** Indices of the k smallest scores, smallest first (ties: earliest first). */
export function smallestK(scores: ArrayLike<number>, k: number): number[] {
  return Array.from({ length: scores.length }, (_, i) => i)
    .sort((a, b) => scores[a] - scores[b] || a - b)
    .slice(0, k);
}
