/**
 * The decoding loop's own KV cache: fixed-capacity buffers that the caller appends to, so a
 * decoding step neither copies the cache nor allocates one. Unfilled slots are masked out.
 * @module
 */

/** Slots added whenever the cache is full: bounds both regrowth copies and masked-out attention work. */
export const KV_CHUNK = 32;

/**
 * Key/value buffers, each `[rows, kvHeads, capacity, headDim]` float32, plus the attention mask
 * `[rows, capacity + 1]` whose last column stands for the token being fed. Slot `t` of every row
 * holds the keys of sequence position `t` of the left-padded batch.
 */
export class KvCache {
  rows: number;
  capacity: number;
  /** Slots written so far (the same for every row). */
  filled = 0;
  buffers: Float32Array[];
  mask: BigInt64Array;
  readonly #kvHeads: number;
  readonly #headDim: number;

  constructor(tensors: number, rows: number, kvHeads: number, headDim: number, capacity: number) {
    this.rows = rows;
    this.capacity = capacity;
    this.#kvHeads = kvHeads;
    this.#headDim = headDim;
    this.buffers = Array.from(
      { length: tensors },
      () => new Float32Array(rows * kvHeads * capacity * headDim),
    );
    this.mask = newMask(rows, capacity);
  }

  /** Dims of one past tensor as fed. */
  get dims(): number[] {
    return [this.rows, this.#kvHeads, this.capacity, this.#headDim];
  }

  /** The fed part of buffer `k` (rows beyond `rows` were dropped). */
  view(k: number): Float32Array {
    return this.buffers[k].subarray(0, this.rows * this.#kvHeads * this.capacity * this.#headDim);
  }

  /** The fed mask `[rows, capacity + 1]`. */
  maskView(): BigInt64Array {
    return this.mask.subarray(0, this.rows * (this.capacity + 1));
  }

  /**
   * Copies slots `[from, from + n)` of `src[k]` (`[rows, kvHeads, srcSlots, headDim]`) into slots
   * `[filled, filled + n)` and marks them with `mask` (`[rows, n]`, null = all attended).
   */
  append(
    src: readonly Float32Array[],
    srcSlots: number,
    from: number,
    n: number,
    mask: BigInt64Array | null,
  ): void {
    if (this.filled + n > this.capacity) {
      throw new RangeError(
        `Cannot append ${n} slots to the KV cache: ${this.filled} of ${this.capacity} are filled`,
      );
    }
    const D = this.#headDim, cap = this.capacity, heads = this.rows * this.#kvHeads;
    const len = n * D;
    src.forEach((s, k) => {
      const dst = this.buffers[k];
      for (let h = 0; h < heads; h++) {
        const at = (h * srcSlots + from) * D;
        dst.set(s.subarray(at, at + len), (h * cap + this.filled) * D);
      }
    });
    const W = cap + 1;
    for (let b = 0; b < this.rows; b++) {
      for (let t = 0; t < n; t++) this.mask[b * W + this.filled + t] = mask ? mask[b * n + t] : 1n;
    }
    this.filled += n;
  }

  /** Makes room for `slots` more slots, growing by at least {@linkcode KV_CHUNK} up to `limit`. */
  reserve(slots: number, limit: number): void {
    if (this.filled + slots <= this.capacity) return;
    const capacity = Math.max(this.filled + slots, Math.min(limit, this.capacity + KV_CHUNK));
    const D = this.#headDim, heads = this.rows * this.#kvHeads, len = this.filled * D;
    this.buffers = this.buffers.map((old) => {
      const out = new Float32Array(heads * capacity * D);
      for (let h = 0; h < heads; h++) {
        out.set(old.subarray(h * this.capacity * D, h * this.capacity * D + len), h * capacity * D);
      }
      return out;
    });
    const mask = newMask(this.rows, capacity);
    for (let b = 0; b < this.rows; b++) {
      mask.set(
        this.mask.subarray(b * (this.capacity + 1), b * (this.capacity + 1) + this.filled),
        b * (capacity + 1),
      );
    }
    this.mask = mask;
    this.capacity = capacity;
  }

  /** Keeps rows `keep` (ascending) in that order, compacting in place. */
  keep(keep: readonly number[]): void {
    const rowSize = this.#kvHeads * this.capacity * this.#headDim, W = this.capacity + 1;
    keep.forEach((b, k) => {
      if (b === k) return;
      for (const buf of this.buffers) buf.copyWithin(k * rowSize, b * rowSize, (b + 1) * rowSize);
      this.mask.copyWithin(k * W, b * W, (b + 1) * W);
    });
    this.rows = keep.length;
  }
}

/** A zero mask `[rows, capacity + 1]` with the last column (the fed token) set. */
function newMask(rows: number, capacity: number): BigInt64Array {
  const mask = new BigInt64Array(rows * (capacity + 1));
  for (let b = 0; b < rows; b++) mask[b * (capacity + 1) + capacity] = 1n;
  return mask;
}
