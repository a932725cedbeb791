import assert from "node:assert/strict";
import { argmin, contrastiveScores } from "../src/method/contrastive.ts";
import { rolloutCriticalToken } from "../src/method/rollout_rule.ts";
import { hitRates, rankAscending } from "../src/method/detectors.ts";
import { auroc } from "../src/stats/auroc.ts";
import { mcnemarExactP } from "../src/stats/mcnemar.ts";
import { pairedBootstrapCI } from "../src/stats/bootstrap.ts";

Deno.test("rollout critical token: the rule and its fallback", () => {
  // Position 1 is zero but position 2 recovers to 0.5; position 3 is zero and stays below 5% after.
  assert.equal(rolloutCriticalToken([0.8, 0, 0.5, 0, 0.03, 0]), 3);
  assert.equal(rolloutCriticalToken([0.8, 0.6, 0, 0, 0]), 2);
  // Small non-zero values inside a run do not end it; one at the threshold does.
  assert.equal(rolloutCriticalToken([0.8, 0, 0.03, 0.04, 0]), 1);
  assert.equal(rolloutCriticalToken([0.8, 0, 0.05, 0]), 3);
  // Every run recovers: the first zero of the last run (the reference code's fallback), which
  // is 3 here, not the last zero 4.
  assert.equal(rolloutCriticalToken([0, 0.5, 0, 0.2]), 2);
  assert.equal(rolloutCriticalToken([0, 0, 0.5, 0, 0, 0.3]), 3);
  assert.equal(rolloutCriticalToken([0.9, 0.5, 0.1]), null);
  assert.equal(rolloutCriticalToken([]), null);
});

Deno.test("contrastive scores equal a direct softmax of (1+b) z_pos - b z_neg", () => {
  // Two positions, vocabulary of 3. Logits (not normalised), to check the per-row constant cancels.
  const zPos = [[2, 0, 1], [0.5, 0.5, 3]];
  const zNeg = [[0, 3, 1], [1, 0, -1]];
  const logSoftmax = (z: number[]) => {
    const m = Math.max(...z);
    const lse = m + Math.log(z.reduce((s, x) => s + Math.exp(x - m), 0));
    return z.map((x) => x - lse);
  };
  const pos = Float32Array.from(zPos.flatMap(logSoftmax));
  const neg = Float32Array.from(zNeg.flatMap(logSoftmax));
  const tokens = [1, 2];
  for (const beta of [0, 1, 2]) {
    const s = contrastiveScores(pos, neg, tokens, 3, beta);
    for (let t = 0; t < 2; t++) {
      const combined = zPos[t].map((p, v) => (1 + beta) * p - beta * zNeg[t][v]);
      const expected = Math.exp(logSoftmax(combined)[tokens[t]]);
      assert.ok(Math.abs(s[t] - expected) < 1e-6, `beta ${beta} t ${t}: ${s[t]} vs ${expected}`);
    }
  }
  // beta = 0 gives the positive model's own probability.
  assert.ok(Math.abs(contrastiveScores(pos, neg, tokens, 3, 0)[0] - Math.exp(pos[1])) < 1e-6);
  assert.throws(() => contrastiveScores(pos, neg, [1], 3), /expected \[1, 3\]/);
  assert.throws(() => contrastiveScores(pos, neg, [1, 5], 3), /token 5/);
});

Deno.test("argmin and ranks break ties by position", () => {
  assert.equal(argmin([3, 1, 1, 2]), 1);
  assert.deepEqual(rankAscending([0.5, 0.1, 0.9]), [1, 0, 2]);
});

Deno.test("hit rates on hand-made rankings", () => {
  const rates = hitRates([
    { ranking: [4, 1, 2], firstError: 4 }, // top-1
    { ranking: [5, 3, 9], firstError: 4 }, // within-1 only... and not top-3
    { ranking: [0, 7, 4], firstError: 4 }, // top-3 only
    { ranking: [9, 8, 7], firstError: 1 }, // miss
  ]);
  assert.deepEqual(rates, { top1: 0.25, within1: 0.5, top3: 0.5, n: 4 });
});

Deno.test("AUROC: perfect, reversed, ties and a hand-counted case", () => {
  assert.equal(auroc([0.9, 0.8, 0.1, 0.2], [true, true, false, false]), 1);
  assert.equal(auroc([0.1, 0.2, 0.9], [true, true, false]), 0);
  assert.equal(auroc([0.5, 0.5], [true, false]), 0.5);
  // Positives 0.6, 0.3; negatives 0.5, 0.1: pairs won 0.6>0.5, 0.6>0.1, 0.3>0.1 = 3 of 4.
  assert.equal(auroc([0.6, 0.3, 0.5, 0.1], [true, true, false, false]), 0.75);
  assert.equal(auroc([1, 2], [true, true]), null);
});

Deno.test("McNemar exact p against hand computation", () => {
  // b = 5 (A only), c = 0: p = 2 * (1/2)^5 = 0.0625.
  const a = [true, true, true, true, true, false];
  const b = [false, false, false, false, false, false];
  assert.ok(Math.abs(mcnemarExactP(a, b) - 0.0625) < 1e-12);
  // b = 3, c = 1: p = 2 * (C(4,0) + C(4,1)) / 16 = 10/16.
  const x = [true, true, true, false, true];
  const y = [false, false, false, true, true];
  assert.ok(Math.abs(mcnemarExactP(x, y) - 0.625) < 1e-12);
  assert.equal(mcnemarExactP([true], [true]), 1);
  // Large n stays finite and tiny: 2000 discordant all one way.
  const big = mcnemarExactP(Array(2000).fill(true), Array(2000).fill(false));
  assert.ok(big >= 0 && big < 1e-300);
});

Deno.test("paired bootstrap CI brackets the observed difference and is seeded", () => {
  const a = Array.from({ length: 200 }, (_, i) => i % 10 < 7);
  const b = Array.from({ length: 200 }, (_, i) => i % 10 < 5);
  const ci = pairedBootstrapCI(a, b, { seed: 1 });
  assert.equal(ci.difference, 20);
  assert.ok(ci.low < 20 && ci.high > 20 && ci.low > 10 && ci.high < 30, JSON.stringify(ci));
  assert.deepEqual(pairedBootstrapCI(a, b, { seed: 1 }), ci);
  const same = pairedBootstrapCI(a, a, { seed: 2 });
  assert.deepEqual([same.low, same.high, same.difference], [0, 0, 0]);
});

Deno.test("clustered bootstrap resamples problems, not outcomes", () => {
  // Three seeds with identical outcomes on each of 60 problems: resampling problems must give
  // exactly the interval of one seed's outcomes (same draws, each cluster triples both sums);
  // resampling outcomes as if independent gives a narrower, overconfident interval.
  const a = Array.from({ length: 60 }, (_, i) => i % 3 !== 0);
  const b = Array.from({ length: 60 }, (_, i) => i % 5 === 0);
  const tripled = <T>(xs: T[]) => [...xs, ...xs, ...xs];
  const problems = tripled(a.map((_, i) => `p${i}`));
  const single = pairedBootstrapCI(a, b, { seed: 4 });
  const clustered = pairedBootstrapCI(tripled(a), tripled(b), { seed: 4, clusters: problems });
  const naive = pairedBootstrapCI(tripled(a), tripled(b), { seed: 4 });
  assert.deepEqual(clustered, single);
  assert.ok(naive.high - naive.low < single.high - single.low);
  assert.throws(() => pairedBootstrapCI(a, b, { clusters: ["x"] }), /1 cluster labels for 60/);
});
