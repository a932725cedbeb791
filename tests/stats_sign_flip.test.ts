// The problem-level sign-flip permutation test, against hand-enumerated sign flips and against
// McNemar's exact test, which it must equal when each method has one outcome per problem.
import assert from "node:assert/strict";
import { perProblemDifferences, signFlipTest } from "../src/stats/sign_flip.ts";
import { mcnemarExactP } from "../src/stats/mcnemar.ts";
import { wilsonInterval } from "../src/stats/wilson.ts";
import { Random } from "../src/random.ts";

Deno.test("sign flips enumerated by hand", () => {
  // d = 1, 1, 1: of the 8 sign patterns only +++ and --- reach |S| >= 3.
  assert.equal(signFlipTest([1, 1, 1]).p, 2 / 8);
  // d = 2/3, -1/3, 1 (means over 3 seeds): in thirds 2, -1, 3 with S = 4. The 8 sums are
  // 6, 0, 4, -2, 2, -4, 0, -6, and four of them have |S*| >= 4.
  const r = signFlipTest([2 / 3, -1 / 3, 1]);
  assert.equal(r.p, 4 / 8);
  assert.equal(r.method, "exact");
  assert.equal(r.informative, 3);
  // Zero differences change nothing.
  assert.equal(signFlipTest([2 / 3, -1 / 3, 1, 0, 0]).p, 4 / 8);
  assert.equal(signFlipTest([0, 0]).p, 1);
});

Deno.test("with one outcome per problem the test is McNemar's exact test", () => {
  const rng = new Random(5);
  for (let trial = 0; trial < 20; trial++) {
    const n = 30 + trial * 7;
    const a = Array.from({ length: n }, () => rng.next() < 0.6);
    const b = Array.from({ length: n }, () => rng.next() < 0.5);
    const d = a.map((x, i) => Number(x) - Number(b[i]));
    assert.ok(Math.abs(signFlipTest(d).p - mcnemarExactP(a, b)) < 1e-12, `trial ${trial}`);
  }
});

Deno.test("the Monte Carlo estimate agrees with the exact p when forced", () => {
  const rng = new Random(9);
  const d = Array.from({ length: 60 }, () => Math.round((rng.next() * 2 - 0.8) * 3) / 3);
  const exact = signFlipTest(d);
  const mc = signFlipTest(d, { maxExactRange: 0, resamples: 40_000, seed: 3 });
  assert.equal(mc.method, "monte-carlo");
  // Binomial standard error of a p near 0.05 with 40k draws is about 0.001.
  assert.ok(Math.abs(mc.p - exact.p) < 0.006, `${mc.p} vs ${exact.p}`);
});

Deno.test("per-problem differences average each problem's seeds and pair by problem", () => {
  const a = [
    { problem: "p1", correct: true },
    { problem: "p1", correct: false },
    { problem: "p1", correct: true },
    { problem: "p2", correct: false },
    { problem: "only-a", correct: true },
  ];
  const b = [
    { problem: "p2", correct: true },
    { problem: "p1", correct: false },
  ];
  // p1: 2/3 - 0; p2: 0 - 1; only-a has no partner.
  assert.deepEqual(perProblemDifferences(a, b), [2 / 3, -1]);
});

Deno.test("Wilson intervals against hand-computed values", () => {
  // 8 of 10, z = 1.96: centre (0.8 + 0.19208) / 1.38415 = 0.716764, half width
  // (1.96 / 1.38415) * sqrt(0.016 + 0.0096040) = 0.226637: [0.490, 0.943].
  const [lo, hi] = wilsonInterval(0.8, 10);
  assert.ok(Math.abs(lo - 0.4902) < 1e-3 && Math.abs(hi - 0.9433) < 1e-3, `${lo} ${hi}`);
  // 0 of 20 still has an upper end above 0: z² / (n + z²) = 3.8415 / 23.8415 = 0.1611.
  const [zlo, zhi] = wilsonInterval(0, 20);
  assert.equal(zlo, 0);
  assert.ok(Math.abs(zhi - 0.1611) < 1e-3);
  assert.throws(() => wilsonInterval(0.5, 0), RangeError);
});
