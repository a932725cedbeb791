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
  referenceSeeds,
  table1Text,
  toCsv,
  toMarkdown,
} from "../src/report/mod.ts";
import { computeDetectors, type DetectorResults, rolloutDrops } from "../src/method/mod.ts";
import { logpCurves } from "../src/plots/fig6.ts";
import { rolloutCriticalToken } from "../src/method/rollout_rule.ts";

import { EVALUATION, PASSK, ROLLOUTS, TOKEN_SCORES, TRAJECTORIES } from "./report_fixture.ts";

/** The oracle for rolloutDrops: c_{i-1} - c_i with c_{-1} the bare prompt's correctness. */
function correctnessDrops(promptCorrectness: number, correctness: readonly number[]): number[] {
  return correctness.map((c, i) => (i === 0 ? promptCorrectness : correctness[i - 1]) - c);
}

Deno.test("Table 1: accuracy, a problem-level sign-flip test and per-seed McNemar against cDPO", () => {
  const rows = computeTable1(EVALUATION, { resamples: 500 });
  // Only Table 1 methods, in the paper's order ("mystery" is ignored).
  assert.deepEqual(rows.map((r) => r.method), ["base", "dpo", "rpo", "cdpo"]);
  const by = Object.fromEntries(rows.map((r) => [r.method, r]));
  // cDPO: seed 0 11110, seed 1 11101 -> 8 of 10; DPO: 10010 and 01001 -> 4 of 10; base 10110 -> 3 of 5.
  assert.equal(by.cdpo.accuracy, 80);
  assert.equal(by.dpo.accuracy, 40);
  assert.equal(by.base.accuracy, 60);
  assert.equal(by.base.n, 5);
  // Problem level. cDPO's per-problem means over its seeds: 1, 1, 1, 1/2, 1/2; DPO's: 1/2, 1/2,
  // 0, 1/2, 1/2. DPO - cDPO = -1/2, -1/2, -1, 0, 0: in halves -1, -1, -2 with |S| = 4. Of the 8
  // sign flips of (1, 1, 2) only the two uniform ones reach |S*| >= 4: p = 2/8.
  assert.equal(by.dpo.pValue, 0.25);
  // Per seed: seed 0 10010 vs 11110, DPO wrong & cDPO right at p1, p2 (c = 2, b = 0):
  // p = 2 P(X <= 0), X ~ Bin(2, 1/2) = 0.5; seed 1 01001 vs 11101 likewise at p0, p2.
  assert.deepEqual(by.dpo.mcnemarBySeed, { 0: 0.5, 1: 0.5 });
  assert.equal(by.dpo.pairedDifference, -40);
  // Base (one seed, 10110) against cDPO's means: 0, -1, 0, 1/2, -1/2; in halves -2, 1, -1 with
  // |S| = 2; sign flips of (2, 1, 1) give 4, 2, 2, 0, 0, -2, -2, -4: six reach 2, p = 6/8.
  assert.equal(by.base.pairs, 10);
  assert.equal(by.base.pValue, 0.75);
  // Base per seed: vs 11110 c = 1 (p1): p = 1; vs 11101 b = 1 (p3), c = 2 (p1, p4): p = 2 (1 + 3) / 8 = 1.
  assert.deepEqual(by.base.mcnemarBySeed, { 0: 1, 1: 1 });
  assert.equal(by.base.pairedDifference, -20);
  // RPO equals cDPO everywhere: no non-zero difference, every bootstrap difference is 0.
  assert.equal(by.rpo.pValue, 1);
  assert.deepEqual([by.rpo.ciLow, by.rpo.ciHigh], [0, 0]);
  // DPO is never right where cDPO is wrong, so no resample can favour DPO.
  assert.ok(by.dpo.ciHigh! <= 0 && by.dpo.ciLow! <= -40 && by.dpo.ciHigh! >= -40);
  assert.deepEqual([by.cdpo.ciLow, by.cdpo.ciHigh, by.cdpo.pValue], [null, null, null]);

  const csv = toCsv(table1Text(rows, referenceSeeds(EVALUATION)));
  assert.equal(
    csv.split("\n")[0],
    "method,accuracy,n,ci_low,ci_high,p_value,p_mcnemar_s0,p_mcnemar_s1",
  );
  assert.match(csv, /\ndpo,40\.00,10,-?\d+\.\d\d,-?\d+\.\d\d,0\.2500,0\.5000,0\.5000\n/);
  assert.match(csv, /\ncdpo,80\.00,10,,,,,\n$/);
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

Deno.test("detector hit rates and AUROC on hand-made trajectories, by kind and sample", () => {
  const results = computeDetectors(TRAJECTORIES, TOKEN_SCORES, ROLLOUTS);
  const row = (detector: string, kind: string, sample: string) =>
    results.rows.find((r) => r.detector === detector && r.kind === kind && r.sample === sample)!;
  const rates = (r: { top1: number; within1: number; top3: number; n: number }) => [
    r.top1,
    r.within1,
    r.top3,
    r.n,
  ];
  // Kinds: all, then the oracle's kinds sorted; F (early_end) is only an end-of-sequence first
  // error, so its kind has no rows. Samples: in, then out (the rows carry s_t_out).
  assert.deepEqual(
    [...new Set(results.rows.map((r) => `${r.sample}:${r.kind}`))],
    ["in:all", "in:arithmetic", "in:confusion", "out:all", "out:arithmetic", "out:confusion"],
  );
  assert.deepEqual(
    results.rows.filter((r) => r.sample === "in" && r.kind === "all").map((r) => r.detector),
    [
      "ce_argmin",
      "ce_log_ratio",
      "ce_pos_only",
      "rollout",
      "random",
      "min_policy_prob",
    ],
  );
  // In sample, over A, B, C (D unknown, F stopped early: n_eos 1). CE ranks by ascending s_t:
  // A -> 2 (= first error 2: hit); B -> 2 (first error 1: within 1; top-3 [2, 0, 1] has it);
  // C -> 5 (first error 0: miss everything).
  const ce = row("ce_argmin", "all", "in");
  assert.deepEqual(rates(ce), [1 / 3, 2 / 3, 2 / 3, 3]);
  assert.equal(ce.nEos, 1);
  // AUROC of -s_t: positives s = 0.01, 0.3, 0.7 against 12 negatives. 0.01 is below all 12;
  // 0.3 is below 8 and ties 1 (8.5); 0.7 is below 0.9, 0.8, 0.9 (3). (12 + 8.5 + 3) / 36.
  assert.equal(ce.auroc, 23.5 / 36);
  // The log-ratio and P_pos alone are constant here: ties rank by position, so position 0 comes
  // first: A misses (2 away), B is within 1, C hits; positions 0-2 hold every first error; a
  // constant score cannot separate the tokens: AUROC 0.5.
  for (const name of ["ce_log_ratio", "ce_pos_only"]) {
    assert.deepEqual(rates(row(name, "all", "in")), [1 / 3, 2 / 3, 1, 3]);
    assert.equal(row(name, "all", "in").auroc, 0.5);
  }
  // Lowest policy log-prob: A -> 1 (within 1 of 2; top-3 [1, 2, 4] has it); B -> 0 (within 1
  // of 1; top-3 [0, 3, 2] misses); C -> 0 (hit).
  assert.deepEqual(rates(row("min_policy_prob", "all", "in")).slice(0, 3), [1 / 3, 1, 2 / 3]);
  // Rollout: A's critical token 2 is its first error (hit). B's critical token is 3, then by
  // drop 1 (0.4), 0 (0), 2 (-0.1): top-1 miss, |3 - 1| = 2 not within 1, top-3 hit.
  // E has no known first error: n = 2.
  assert.deepEqual(rates(row("rollout", "all", "in")), [0.5, 0.5, 1, 2]);
  // Drops at the first errors (0.5 and 0.4) exceed every other drop: AUROC 1.
  assert.equal(row("rollout", "all", "in").auroc, 1);
  // Out of sample C's lowest s_t is its first error: top-1 2/3; top-3 holds all three. AUROC:
  // positives 0.01, 0.3, 0.1 against the 12 negatives: 12 + (8 + 0.5) + 11, over 36.
  assert.deepEqual(rates(row("ce_argmin", "all", "out")), [2 / 3, 1, 1, 3]);
  assert.equal(row("ce_argmin", "all", "out").auroc, 31.5 / 36);
  // By kind: arithmetic is A and B, confusion C; only CE's out-of-sample scores find C's.
  assert.deepEqual(rates(row("ce_argmin", "arithmetic", "in")), [1 / 2, 1, 1, 2]);
  assert.deepEqual(rates(row("ce_argmin", "confusion", "in")), [0, 0, 0, 1]);
  assert.deepEqual(rates(row("ce_argmin", "confusion", "out")), [1, 1, 1, 1]);
  assert.equal(row("ce_argmin", "confusion", "out").nEos, 0);
  // Detectors that do not use the CE models are the same in both samples.
  assert.deepEqual(row("min_policy_prob", "all", "out"), {
    ...row("min_policy_prob", "all", "in"),
    sample: "out",
  });
  // s_t (out of sample) against rollout labels over A's 5 and B's 4 tokens: positives s = 0.01
  // (below all 7 negatives) and 0.9 (ties one negative 0.9): (7 + 0.5) / 14.
  assert.equal(results.ceVsRolloutTokens, 9);
  assert.equal(results.ceVsRolloutAuroc, 7.5 / 14);

  assert.equal(
    toCsv(
      detectorText(
        results.rows.filter((r) =>
          r.kind === "all" && r.sample === "in" && r.detector !== "random"
        ),
      ),
    ),
    "detector,kind,sample,top1,within1,top3,auroc,n,n_eos\n" +
      "ce_argmin,all,in,0.3333,0.6667,0.6667,0.6528,3,1\n" +
      "ce_log_ratio,all,in,0.3333,0.6667,1.0000,0.5000,3,1\n" +
      "ce_pos_only,all,in,0.3333,0.6667,1.0000,0.5000,3,1\n" +
      "rollout,all,in,0.5000,0.5000,1.0000,1.0000,2,1\n" +
      "min_policy_prob,all,in,0.3333,1.0000,0.6667,0.4861,3,1\n",
  );
});

Deno.test("the beta sweep adds one detector per beta and sample", () => {
  // At beta 9 only A's first error has the lowest s_t.
  const sweep = TOKEN_SCORES.filter((r) => r.trajectory_id !== "train/p3/0").flatMap((r) =>
    (["in", "out"] as const).map((sample) => ({
      trajectory_id: r.trajectory_id,
      position: r.position,
      sample,
      beta: 9,
      s_t: r.trajectory_id === "train/p0/0" && r.position === 2 ? 0 : 1 - r.position / 100,
    }))
  );
  const results = computeDetectors(TRAJECTORIES, TOKEN_SCORES, null, sweep);
  const b9 = results.rows.find((r) =>
    r.detector === "ce_beta_9" && r.kind === "all" && r.sample === "out"
  )!;
  // A: position 2 (hit); B and C: the last position is lowest (1 - p/100 falls with p): B -> 3
  // (first error 1, miss), C -> 5 (first error 0, miss).
  assert.deepEqual([b9.top1, b9.n], [1 / 3, 3]);
  // The sweep's detectors sit after the other CE variants, before the baselines.
  assert.deepEqual(
    results.rows.filter((r) => r.kind === "all" && r.sample === "in").map((r) => r.detector),
    ["ce_argmin", "ce_log_ratio", "ce_pos_only", "ce_beta_9", "random", "min_policy_prob"],
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
  assert.deepEqual(
    computeDetectors(TRAJECTORIES, TOKEN_SCORES, null).rows
      .filter((r) => r.kind === "all" && r.sample === "in").map((r) => r.detector),
    ["ce_argmin", "ce_log_ratio", "ce_pos_only", "random", "min_policy_prob"],
  );
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
    rows: ([["ce_argmin", ce], ["random", random], ["min_policy_prob", policy]] as const).map((
      [detector, top1],
    ) => ({
      detector,
      kind: "all",
      sample: "out",
      top1,
      within1: 0,
      top3: 0,
      auroc: null,
      n: 10,
      nEos: 0,
    })),
    ceVsRolloutAuroc: null,
    ceVsRolloutTokens: 0,
  });
  const say = (d: DetectorResults) =>
    interpretationSentences({ table1: null, passk: null, detectors: d, fig5: null, logp: null })
      .join(" ");
  assert.match(
    say(detectors(0.6, 0.1, 0.3)),
    /\(60\.0%, n = 10, out of sample\) is above both baselines \(random 10\.0%, min_policy_prob 30\.0%\)/,
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
    /cDPO is 40\.0 points above DPO \(problem-level p = 0\.2500, not significant at the 0\.05 level/,
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
    /cDPO is 100\.0 points below DPO \(problem-level p = 4\.88e-4, significant at the 0\.05 level/,
  );
  assert.match(flippedText, /The most accurate method is DPO/);
});

Deno.test("Figure 6 curves: held-out metrics when measured, as a mean over seeds with a band", () => {
  const row = (seed: number, step: number, chosen: number | null, critical: number | null) => ({
    method: "cdpo",
    seed,
    step,
    loss: 0,
    reward_margin: null,
    reward_accuracy: null,
    logp_chosen: -1,
    logp_rejected: -1,
    grad_norm: 0,
    lr: 0,
    eval_logp_chosen: chosen,
    eval_logp_rejected: chosen === null ? null : chosen - 5,
    eval_logp_critical: critical,
  });
  // Seed 0 measured at steps 0, 10, 20; seed 1 at 0 and 10 only: step 20 is left out, so every
  // point is a mean over the same seeds. Steps without eval values are not points.
  const metrics = [
    row(0, 0, -10, -2),
    row(0, 5, null, null),
    row(0, 10, -8, -4),
    row(0, 20, -7, -5),
    row(1, 0, -12, -3),
    row(1, 10, -9, -6),
  ];
  const [curve] = logpCurves(metrics);
  assert.equal(curve.source, "heldout");
  assert.deepEqual(curve.seeds, [0, 1]);
  assert.deepEqual(curve.step, [0, 10]);
  assert.deepEqual(curve.chosen, { mean: [-11, -8.5], low: [-12, -9], high: [-10, -8] });
  assert.deepEqual(curve.rejected.mean, [-16, -13.5]);
  assert.deepEqual(curve.critical, { mean: [-2.5, -5], low: [-3, -6], high: [-2, -4] });
  // Without held-out values the training batch's log-probs are used, and there is no critical curve.
  const [batch] = logpCurves(metrics.map((r) => ({ ...r, eval_logp_chosen: null })));
  assert.equal(batch.source, "batch");
  assert.equal(batch.critical, null);
  assert.deepEqual(batch.step, [0, 10]);
});
