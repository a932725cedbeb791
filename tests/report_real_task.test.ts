// Reports of real tasks (no first-error oracle): the rollout analysis instead of a detector
// table, and figures whose curves have a single point still show it.
import assert from "node:assert/strict";
import { computeResults } from "../src/report/results.ts";
import { renderReport } from "../src/report/report_md.ts";
import type { RunData } from "../src/run/data.ts";
import { figure6 } from "../src/plots/fig6.ts";
import { FIXTURE_DATA, METRICS, ROLLOUTS, TOKEN_SCORES, TRAJECTORIES } from "./report_fixture.ts";

// The same run as report_fixture.ts, but graded the way GSM8K is: no first errors, verdict unknown.
const REAL: RunData = {
  ...FIXTURE_DATA,
  trajectories: TRAJECTORIES.map((t) => ({ ...t, first_error: null, verdict: "unknown" })),
  rollouts: ROLLOUTS.map((r) => ({ ...r, is_first_error: false })),
  tokenScores: TOKEN_SCORES.map((r) => ({ ...r, is_first_error: false })),
};

Deno.test("without a first-error oracle: no detector table, the rollout analysis instead", () => {
  const results = computeResults(REAL);
  assert.equal(results.groundTruth, false);
  assert.equal(results.tables.detectors, null);
  // Rollout critical tokens (report_fixture.ts): p0 -> 2, p1 -> 3, p4 -> 1: 3 searched, 3 found.
  // Token scores exist for p0 and p1. argmin s_t: p0 [0.9, 0.8, 0.01, 0.5, 0.6] -> 2 (= critical);
  // p1 [0.2, 0.3, 0.05, 0.9] -> 2 (critical is 3): 1 of 2 agree.
  assert.deepEqual(results.rolloutSummary, { searched: 3, found: 3, scored: 2, ceAgrees: 1 });
  assert.ok(!results.missing.some((m) => m.artifact.startsWith("Detector")));
  const md = renderReport({
    ...results,
    runName: "real",
    tuning: null,
    manifest: null,
    figures: [],
    missing: results.missing,
  });
  assert.match(md, /## Critical tokens \(no ground truth on this task\)/);
  assert.match(md, /Rollouts searched 3 incorrect trajectories and found a critical token in 3\./);
  assert.match(md, /the lowest-s_t token is the rollout critical token in 1\./);
  assert.doesNotMatch(md, /against the ground-truth first error/);
  assert.doesNotMatch(md, /\| detector \|/);
  // The world's report is unchanged: with first errors known, the detector table is there.
  const world = computeResults({ ...REAL, trajectories: TRAJECTORIES });
  assert.equal(world.groundTruth, true);
  assert.ok(world.tables.detectors);
});

Deno.test("Figure 6 shows a method that logged a single step as points", () => {
  const oneStep = METRICS.filter((m) => m.step === 0);
  const traces = figure6(oneStep).spec.data as { mode: string; x: number[] }[];
  assert.ok(traces.length > 0);
  for (const t of traces) {
    assert.equal(t.x.length, 1);
    assert.match(t.mode, /markers/);
  }
  // Longer curves stay plain lines.
  for (const t of figure6(METRICS).spec.data as { mode: string }[]) assert.equal(t.mode, "lines");
});

Deno.test("a preset that chose its training questions is named in the report", () => {
  const results = computeResults(REAL);
  const manifest = {
    preset: "real-smoke",
    config: {
      task: {
        trainLines: [5, 9],
        trainPath: "/k/gsm8k_train.jsonl",
        testPath: "/k/gsm8k_test.jsonl",
      },
    },
  };
  const md = renderReport({
    ...results,
    runName: "r",
    manifest,
    tuning: null,
    figures: [],
    missing: [],
  });
  assert.match(
    md,
    /chosen by the preset, not taken in order: lines 5, 9 of `gsm8k_train\.jsonl` \(2 questions\)\. The test split \(`gsm8k_test\.jsonl`\) is used as it is\./,
  );
  const plain = renderReport({
    ...results,
    runName: "r",
    manifest: null,
    tuning: null,
    figures: [],
    missing: [],
  });
  assert.doesNotMatch(plain, /chosen by the preset/);
});
