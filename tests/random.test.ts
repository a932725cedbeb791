import assert from "node:assert/strict";
import { hashSeed, Random } from "../src/random.ts";

Deno.test("same seed, same stream; different seeds, different streams", () => {
  const a = new Random(42), b = new Random(42), c = new Random(43);
  const xs = Array.from({ length: 100 }, () => a.nextUint32());
  assert.deepEqual(xs, Array.from({ length: 100 }, () => b.nextUint32()));
  assert.notDeepEqual(xs, Array.from({ length: 100 }, () => c.nextUint32()));
});

Deno.test("uniform draws have the right moments and ranges", () => {
  const r = new Random(1);
  let sum = 0;
  const counts = [0, 0, 0, 0, 0, 0];
  const n = 60000;
  for (let i = 0; i < n; i++) {
    const u = r.next();
    assert.ok(u >= 0 && u < 1);
    sum += u;
    counts[r.int(0, 5)]++;
  }
  assert.ok(Math.abs(sum / n - 0.5) < 0.01);
  for (const c of counts) assert.ok(Math.abs(c / n - 1 / 6) < 0.01, `${counts}`);
});

Deno.test("weighted draws follow their weights and never pick a zero weight", () => {
  const r = new Random(7);
  const counts = [0, 0, 0];
  for (let i = 0; i < 30000; i++) counts[r.weighted([1, 0, 3])]++;
  assert.equal(counts[1], 0);
  assert.ok(Math.abs(counts[2] / 30000 - 0.75) < 0.02);
  assert.throws(() => r.weighted([0, 0]), /sum to zero/);
});

Deno.test("shuffle is a permutation and derive is label-sensitive", () => {
  const r = new Random(3);
  const items = Array.from({ length: 50 }, (_, i) => i);
  const s = r.shuffle(items);
  assert.deepEqual([...s].sort((x, y) => x - y), items);
  assert.notDeepEqual(s, items);
  assert.notEqual(hashSeed(1, "a"), hashSeed(1, "b"));
  assert.equal(Random.derive(1, "x", 2).next(), Random.derive(1, "x", 2).next());
});
