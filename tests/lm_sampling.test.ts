/** The selection rule and batch planning, against hand-derived answers (twin cases in trainer/tests/test_lm_ops.py). */
import assert from "node:assert/strict";
import { planBatches, selectToken } from "../src/lm/mod.ts";

const z = Float32Array.from([1, 2, 3].map(Math.log));

Deno.test("selectToken: temperature 1 walks weights 1, 2, 3 in id order (csum 1, 3, 6; first csum > 6u)", () => {
  assert.deepEqual([0.1, 0.2, 0.5, 0.99].map((u) => selectToken(z, 0, 3, 1, 1, [], u)), [
    0,
    1,
    2,
    2,
  ]);
});

Deno.test("selectToken: temperature 2 flattens to weights 1, sqrt2, sqrt3", () => {
  // total = 1 + 1.41421 + 1.73205 = 4.14626; u = 0.3 -> 1.2439 > 1 -> id 1; u = 0.6 -> 2.4878 > 2.41421 -> id 2.
  assert.equal(selectToken(z, 0, 3, 2, 1, [], 0.3), 1);
  assert.equal(selectToken(z, 0, 3, 2, 1, [], 0.6), 2);
});

Deno.test("selectToken: top-p keeps the smallest heavy prefix", () => {
  // Sorted 3, 2, 1 (csum 3, 5, 6). topP 0.5: 3 >= 3 keeps only id 2, whatever u.
  for (const u of [0, 0.5, 0.999]) assert.equal(selectToken(z, 0, 3, 1, 0.5, [], u), 2);
  // topP 0.6: threshold 3.6 keeps ids 2 and 1 (mass 5); u 0.59 -> 2.95 -> id 2; u 0.61 -> 3.05 -> id 1.
  assert.equal(selectToken(z, 0, 3, 1, 0.6, [], 0.59), 2);
  assert.equal(selectToken(z, 0, 3, 1, 0.6, [], 0.61), 1);
});

Deno.test("selectToken: bans, greedy ties and offsets", () => {
  assert.equal(selectToken(z, 0, 3, 1, 1, [2], 0.4), 1); // weights 1, 2: 1.2 > 1
  assert.equal(selectToken(z, 0, 3, 0, 1, [], 0.7), 2);
  assert.equal(selectToken(z, 0, 3, 0, 1, [2], 0.7), 1);
  assert.equal(selectToken(new Float32Array(4), 0, 4, 0, 1, [0], 0.5), 1);
  const two = Float32Array.from([9, 9, 0, 0, 5]); // second row starts at offset 2
  assert.equal(selectToken(two, 2, 3, 0, 1, [], 0.5), 2);
  assert.throws(() => selectToken(z, 0, 3, 1, 1, [0, 1, 2], 0.5), /every token is banned/);
});

Deno.test("planBatches: sorted by length, capped by items and logits, every index once", () => {
  const lengths = [5, 1, 9, 3, 7, 2];
  const groups = planBatches(lengths, { maxItems: 2, maxLogits: 1e9, vocab: 10 });
  assert.deepEqual(groups, [[2, 4], [0, 3], [5, 1]]);
  // A cap of 100 logits at vocab 10: width 9 allows one item per batch.
  const tight = planBatches(lengths, { maxItems: 8, maxLogits: 100, vocab: 10 });
  assert.deepEqual(tight.flat().sort(), [0, 1, 2, 3, 4, 5]);
  for (const g of tight) {
    assert.ok(g.length * Math.max(...g.map((i) => lengths[i])) * 10 <= 100 || g.length === 1);
  }
});

/** The documented rule written the direct way: ids sorted by (weight desc, id asc), prefix sums. */
function selectBySortingIds(logits: Float32Array, T: number, topP: number, u: number): number {
  const V = logits.length;
  const max = Math.max(...logits);
  const w = Array.from(logits, (z) => Math.exp((z - max) / T));
  const order = w.map((_, v) => v).sort((a, b) => (w[b] - w[a]) || (a - b));
  const csum: number[] = [];
  order.reduce((acc, v) => (csum.push(acc + w[v]), acc + w[v]), 0);
  let kept = 1;
  while (kept < V && csum[kept - 1] < topP * csum[V - 1]) kept++;
  let idx = 0;
  while (idx < kept && csum[idx] <= u * csum[kept - 1]) idx++;
  return order[Math.min(idx, kept - 1)];
}

Deno.test("selectToken: top-p without sorting ids picks what sorting ids picks, ties included", () => {
  // Logits from a handful of values, so many ids share a weight and the tie order (id asc) decides.
  let state = 12345;
  const rand = () => (state = (state * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
  for (let trial = 0; trial < 300; trial++) {
    const V = 2 + Math.floor(rand() * 60);
    const logits = Float32Array.from({ length: V }, () => Math.floor(rand() * 5) * 0.5);
    const [T, topP, u] = [0.5 + rand(), 0.2 + 0.79 * rand(), rand()];
    assert.equal(
      selectToken(logits, 0, V, T, topP, [], u),
      selectBySortingIds(logits, T, topP, u),
      `trial ${trial}`,
    );
  }
});
