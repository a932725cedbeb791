/**
 * Grouping of variable-length items into padded batches: sorted by length so little padding is
 * computed, capped by item count and by logits size so memory stays bounded for any vocabulary.
 * @module
 */

/** Limits of one padded batch. */
export interface BatchLimits {
  /** Most items per batch. */
  maxItems: number;
  /** Most `items x padded length x vocab` logits values per batch (bounds the logits buffer). */
  maxLogits: number;
  vocab: number;
}

/**
 * Groups of item indices (each group sorted by length, longest first) covering `0 .. lengths.length - 1`.
 * A single item always forms a batch of its own even when it alone exceeds `maxLogits`.
 */
export function planBatches(lengths: readonly number[], limits: BatchLimits): number[][] {
  const order = lengths.map((_, i) => i).sort((a, b) => lengths[b] - lengths[a] || a - b);
  const groups: number[][] = [];
  let current: number[] = [];
  let width = 0;
  for (const i of order) {
    const w = Math.max(width, lengths[i], 1);
    if (
      current.length > 0 &&
      (current.length + 1 > limits.maxItems ||
        (current.length + 1) * w * limits.vocab > limits.maxLogits)
    ) {
      groups.push(current);
      current = [];
    }
    width = current.length === 0 ? Math.max(lengths[i], 1) : w;
    current.push(i);
  }
  if (current.length) groups.push(current);
  return groups;
}

/** The default cap on logits values per batch: 64 Mi floats (256 MiB). */
export const DEFAULT_MAX_LOGITS = 64 * 1024 * 1024;
