// Report tables and the interpretation paragraph, computed from hand-made rows (no files).
import assert from "node:assert/strict";
import {
  computeTable1,
  detectorText,
  fixed,
  formatP,
  interpretationSentences,
  pairWithReference,
  passkText,
  table1Text,
  toCsv,
  toMarkdown,
} from "../src/report/mod.ts";
import { computeDetectors, type DetectorResults, rolloutDrops } from "../src/method/mod.ts";
import { rolloutCriticalToken } from "../src/method/rollout_rule.ts";

import { EVALUATION, PASSK, ROLLOUTS, TOKEN_SCORES, TRAJECTORIES } from "./report_fixture.ts";

/** The oracle for rolloutDrops: c_{i-1} - c_i with c_{-1} the bare prompt's correctness. */
function correctnessDrops(promptCorrectness: number, correctness: readonly number[]): number[] {
  return correctness.map((c, i) => (i === 0 ? promptCorrectness : correctness[i - 1]) - c);
}

Deno.test("Table 1: accuracy over seeds × problems, McNemar against cDPO by (seed, problem)", () => {
  const rows = computeTable1(EVALUATION, { resamples: 500 });
  // Only Table 1 methods, in the paper's order ("mystery" is ignored).
  assert.deepEqual(rows.map((r) => r.method), ["base", "dpo", "rpo", "cdpo"]);
  const by = Object.fromEntries(rows.map((r) => [r.method, r]));
  // cDPO: seed 0 11110, seed 1 11101 -> 8 of 10; DPO: 10010 and 01001 -> 4 of 10; base 10110 -> 3 of 5.
  assert.equal(by.cdpo.accuracy, 80);
  assert.equal(by.dpo.accuracy, 40);
  assert.equal(by.base.accuracy, 60);
  assert.equal(by.base.n, 5);
  // DPO vs cDPO pairs: DPO right & cDPO wrong never (b = 0); DPO wrong & cDPO right at
  // (0,p1) (0,p2) (1,p0) (1,p2) (c = 4). p = 2 P(X <= 0), X ~ Bin(4, 1/2) = 2/16 = 0.125.
  assert.equal(by.dpo.pValue, 0.125);
  assert.equal(by.dpo.pairedDifference, -40);
  // Base (one seed) is paired with both cDPO seeds: 10 pairs. Base 10110 vs 11110: c = 1 (p1);
  // vs 11101: b = 1 (p3), c = 2 (p1, p4). b = 1, c = 3: p = 2 (1 + 4) / 16 = 0.625.
  assert.equal(by.base.pairs, 10);
  assert.equal(by.base.pValue, 0.625);
  assert.equal(by.base.pairedDifference, -20);
  // RPO equals cDPO everywhere: no discordant pair, every bootstrap difference is 0.
  assert.equal(by.rpo.pValue, 1);
  assert.deepEqual([by.rpo.ciLow, by.rpo.ciHigh], [0, 0]);
  // DPO is never right where cDPO is wrong, so no resample can favour DPO.
  assert.ok(by.dpo.ciHigh! <= 0 && by.dpo.ciLow! <= -40 && by.dpo.ciHigh! >= -40);
  assert.deepEqual([by.cdpo.ciLow, by.cdpo.ciHigh, by.cdpo.pValue], [null, null, null]);

  const csv = toCsv(table1Text(rows));
  assert.equal(csv.split("\n")[0], "method,accuracy,n,ci_low,ci_high,p_value");
  assert.match(csv, /\ndpo,40\.00,10,-?\d+\.\d\d,-?\d+\.\d\d,0\.1250\n/);
  assert.match(csv, /\ncdpo,80\.00,10,,,\n$/);
});

Deno.test("Table 1 pairing: a multi-seed method pairs by (seed, problem) and drops unmatched outcomes", () => {
  const row = (method: string, seed: number, problem_id: string, correct: boolean) => ({
    method,
    seed,
    problem_id,
    correct,
    answer: null,
  });
  const cdpo = [row("cdpo", 0, "a", true), row("cdpo", 1, "a", false), row("cdpo", 2, "a", true)];
  const sft = [row("sft", 1, "a", true), row("sft", 0, "a", false)]; // no seed 2
  assert.deepEqual(pairWithReference(sft, cdpo), {
    a: [false, true],
    b: [true, false],
    problems: ["a", "a"],
  });
  // Without any cdpo rows there is nothing to compare with: the row has no interval or p.
  const alone = computeTable1(sft);
  assert.deepEqual(alone.map((r) => [r.method, r.accuracy, r.pValue]), [["sft", 50, null]]);
});

Deno.test("detector hit rates and AUROC on three hand-made trajectories", () => {
  const results = computeDetectors(TRAJECTORIES, TOKEN_SCORES, ROLLOUTS);
  const by = Object.fromEntries(results.rows.map((r) => [r.detector, r]));
  assert.deepEqual(results.rows.map((r) => r.detector), [
    "ce_argmin",
    "rollout",
    "random",
    "min_policy_prob",
  ]);
  // Trajectory D (first error unknown) is excluded: n = 3 (A, B, C).
  // CE ranks by ascending s_t: A -> 2 (= first error 2: hit); B -> 2 (first error 1: within 1;
  // top-3 [2, 0, 1] has it); C -> 5 (first error 0: miss everything).
  assert.deepEqual(
    [by.ce_argmin.top1, by.ce_argmin.within1, by.ce_argmin.top3, by.ce_argmin.n],
    [1 / 3, 2 / 3, 2 / 3, 3],
  );
  // AUROC of -s_t: positives s = 0.01, 0.3, 0.7 against 12 negatives. 0.01 is below all 12;
  // 0.3 is below 8 and ties 1 (8.5); 0.7 is below 0.9, 0.8, 0.9 (3). (12 + 8.5 + 3) / 36.
  assert.equal(by.ce_argmin.auroc, 23.5 / 36);
  // Lowest policy log-prob: A -> 1 (within 1 of 2; top-3 [1, 2, 4] has it); B -> 0 (within 1
  // of 1; top-3 [0, 3, 2] misses); C -> 0 (hit).
  assert.deepEqual(
    [by.min_policy_prob.top1, by.min_policy_prob.within1, by.min_policy_prob.top3],
    [1 / 3, 1, 2 / 3],
  );
  // Rollout: A's critical token 2 is its first error (hit). B's critical token is 3, then by
  // drop 1 (0.4), 0 (0), 2 (-0.1): top-1 miss, |3 - 1| = 2 not within 1, top-3 hit.
  // E has no known first error: n = 2.
  assert.deepEqual([by.rollout.top1, by.rollout.within1, by.rollout.top3, by.rollout.n], [
    0.5,
    0.5,
    1,
    2,
  ]);
  // Drops at the first errors (0.5 and 0.4) exceed every other drop: AUROC 1.
  assert.equal(by.rollout.auroc, 1);
  // The random detector sees the same trajectories and stays within [0, 1].
  assert.equal(by.random.n, 3);
  assert.ok(by.random.auroc! >= 0 && by.random.auroc! <= 1);
  // s_t against rollout labels over A's 5 and B's 4 tokens: positives s = 0.01 (below all 7
  // negatives) and 0.9 (ties one negative 0.9): (7 + 0.5) / 14.
  assert.equal(results.ceVsRolloutTokens, 9);
  assert.equal(results.ceVsRolloutAuroc, 7.5 / 14);

  assert.equal(
    toCsv(detectorText(results.rows.filter((r) => r.detector !== "random"))),
    "detector,top1,within1,top3,auroc,n\n" +
      "ce_argmin,0.3333,0.6667,0.6667,0.6528,3\n" +
      "rollout,0.5000,0.5000,1.0000,1.0000,2\n" +
      "min_policy_prob,0.3333,1.0000,0.6667,0.4861,3\n",
  );
});

Deno.test("the random detector does not depend on row order or on other trajectories", () => {
  const all = computeDetectors(TRAJECTORIES, TOKEN_SCORES, null).rows.find((r) =>
    r.detector === "random"
  )!;
  const shuffled = computeDetectors(TRAJECTORIES, [...TOKEN_SCORES].reverse(), null).rows
    .find((r) => r.detector === "random")!;
  assert.deepEqual(all, shuffled);
  // Only the token-score detectors without rollouts.
  assert.deepEqual(computeDetectors(TRAJECTORIES, TOKEN_SCORES, null).rows.map((r) => r.detector), [
    "ce_argmin",
    "random",
    "min_policy_prob",
  ]);
});

Deno.test("rollout drops agree with correctnessDrops, and the fixture's critical tokens follow the rule", () => {
  for (const id of ["train/p0/0", "train/p1/0"]) {
    const rows = ROLLOUTS.filter((r) => r.trajectory_id === id);
    const body = rows.filter((r) => r.position >= 0).map((r) => r.correctness);
    const prompt = rows.find((r) => r.position === -1)!.correctness;
    assert.deepEqual(rolloutDrops(rows).drops, correctnessDrops(prompt, body));
    assert.equal(rows.findIndex((r) => r.is_critical) - 1, rolloutCriticalToken(body));
  }
  // Sparse positions: each drop is against the previous rolled-out prefix.
  const sparse = [-1, 0, 4].map((position, i) => ({
    ...ROLLOUTS[0],
    position,
    correctness: [1, 0.5, 0][i],
  }));
  assert.deepEqual(rolloutDrops(sparse).drops, [0.5, 0.5]);
});

Deno.test("number formatting and text renderings", () => {
  assert.equal(fixed(-0.0001, 2), "0.00");
  assert.equal(fixed(-0.006, 2), "-0.01");
  assert.equal(fixed(Number.NaN, 2), "");
  assert.equal(fixed(null, 4), "");
  assert.equal(formatP(0.125), "0.1250");
  assert.equal(formatP(3.2e-7), "3.20e-7");
  assert.equal(formatP(null), "");
  const t = { columns: ["a", "b"], rows: [["x,y", 'say "hi"'], ["", "p|q"]] };
  assert.equal(toCsv(t), 'a,b\n"x,y","say ""hi"""\n,p|q\n');
  assert.equal(toMarkdown(t), '| a | b |\n| --- | --- |\n| x,y | say "hi" |\n| – | p\\|q |\n');
  assert.equal(
    toCsv(passkText(PASSK)),
    "k,with_critical,without_critical\n1,0.0000,25.0000\n2,0.0000,43.7500\n4,0.0000,62.5000\n",
  );
});

Deno.test("interpretation sentences follow the numbers in both directions", () => {
  const detectors = (ce: number, random: number, policy: number): DetectorResults => ({
    rows: [
      { detector: "ce_argmin", top1: ce, within1: 0, top3: 0, auroc: null, n: 10 },
      { detector: "random", top1: random, within1: 0, top3: 0, auroc: null, n: 10 },
      { detector: "min_policy_prob", top1: policy, within1: 0, top3: 0, auroc: null, n: 10 },
    ],
    ceVsRolloutAuroc: null,
    ceVsRolloutTokens: 0,
  });
  const say = (d: DetectorResults) =>
    interpretationSentences({ table1: null, passk: null, detectors: d, fig5: null, logp: null })
      .join(" ");
  assert.match(
    say(detectors(0.6, 0.1, 0.3)),
    /\(60\.0%, n = 10\) is above both baselines \(random 10\.0%, min_policy_prob 30\.0%\)/,
  );
  assert.match(say(detectors(0.2, 0.1, 0.3)), /is above random only/);
  assert.match(say(detectors(0.05, 0.1, 0.3)), /is not above the baselines/);

  const passk = (w: number, wo: number) =>
    interpretationSentences({
      table1: null,
      passk: [{ k: 64, with_critical: w, without_critical: wo }],
      detectors: null,
      fig5: null,
      logp: null,
    })[0];
  assert.match(passk(0, 91), /is far above the "with" curve at k = 64 \(91\.0% vs 0\.0%/);
  assert.match(passk(10, 15), /is above, but by less than 20 points,/);
  assert.match(passk(30, 30), /is not above/);

  const table1 = computeTable1(EVALUATION, { resamples: 200 });
  const text = interpretationSentences({
    table1,
    passk: null,
    detectors: null,
    fig5: null,
    logp: null,
  }).join(" ");
  assert.match(
    text,
    /cDPO is 40\.0 points above DPO \(McNemar p = 0\.1250, not significant at the 0\.05 level/,
  );
  assert.match(text, /cDPO is level with RPO/);
  assert.match(text, /RPO and cDPO tie for the highest accuracy \(80\.0%\)/);
  // Flip the roles: a method that beats cDPO on every one of 12 pairs is reported as above it,
  // significantly (p = 2 / 2^12).
  const flipped = Array.from({ length: 12 }, (_, i) => [
    { method: "dpo", seed: 0, problem_id: `q${i}`, correct: true, answer: null },
    { method: "cdpo", seed: 0, problem_id: `q${i}`, correct: false, answer: null },
  ]).flat();
  const flippedText = interpretationSentences({
    table1: computeTable1(flipped, { resamples: 200 }),
    passk: null,
    detectors: null,
    fig5: null,
    logp: null,
  }).join(" ");
  assert.match(
    flippedText,
    /cDPO is 100\.0 points below DPO \(McNemar p = 4\.88e-4, significant at the 0\.05 level/,
  );
  assert.match(flippedText, /The most accurate method is DPO/);
});
