/**
 * tables/detectors.csv as text: how well each detector of critical tokens finds the world's
 * ground-truth first error (computed in src/method/detectors.ts).
 *
 * @module
 */
import type { DetectorRow } from "../method/detectors.ts";
import { fixed, type TextTable } from "./table_text.ts";

/** Columns of tables/detectors.csv, in order. */
export const DETECTOR_COLUMNS = [
  "detector",
  "kind",
  "sample",
  "top1",
  "within1",
  "top3",
  "auroc",
  "n",
  "n_eos",
] as const;

/** What each column means (shown under the table in report.md). */
export const DETECTOR_LEGEND =
  "top1: fraction of incorrect trajectories whose most suspicious token is the ground-truth " +
  "first error; within1: fraction whose most suspicious token is at most one token from it; " +
  "top3: the first error is among the three most suspicious tokens; auroc: area under the ROC " +
  "curve of the detector's per-token suspicion score against the first-error label, pooled over " +
  "the tokens of those trajectories; n: number of trajectories; n_eos: trajectories of that kind " +
  "whose first error is the end-of-sequence position (they stopped early), which no detector " +
  "scores and which are left out of n. kind: the oracle's first-error kind (all = every kind). " +
  "sample: in = contrastive scores of the models trained on every training question (the " +
  "paper's way), out = of the models trained on the other half of the questions only " +
  "(cross-fitting); rollout, random and min_policy_prob do not use those models. Detectors: " +
  "ce_argmin (lowest s_t), ce_log_ratio (lowest log P_pos − log P_neg), ce_pos_only (lowest " +
  "log P_pos), ce_beta_<b> (lowest s_t at beta b), rollout (the rollout rule's critical token, " +
  "then the largest correctness drops; on the trajectories searched by rollouts), random, " +
  "min_policy_prob (lowest log-prob under the policy).";

/** The detector table as text cells: rates and AUROC as fractions with 4 decimals. */
export function detectorText(rows: readonly DetectorRow[]): TextTable {
  return {
    columns: DETECTOR_COLUMNS,
    rows: rows.map((r) => [
      r.detector,
      r.kind,
      r.sample,
      fixed(r.top1, 4),
      fixed(r.within1, 4),
      fixed(r.top3, 4),
      fixed(r.auroc, 4),
      String(r.n),
      String(r.nEos),
    ]),
  };
}

/**
 * The report's view of the detector table: top-1 hit rates, one row per detector, one column
 * per (sample, kind) — all kinds first, in then out of sample, then each kind out of sample.
 */
export function detectorSummary(rows: readonly DetectorRow[]): TextTable {
  const samples = [...new Set(rows.map((r) => r.sample))];
  const kinds = [...new Set(rows.map((r) => r.kind))].filter((k) => k !== "all");
  const last = samples.at(-1);
  const columns: [string, string][] = [
    ...samples.map((s): [string, string] => [s, "all"]),
    ...kinds.map((k): [string, string] => [last!, k]),
  ];
  const detectors = [...new Set(rows.map((r) => r.detector))];
  const cell = (d: string, s: string, k: string) => {
    const r = rows.find((x) => x.detector === d && x.sample === s && x.kind === k);
    return r ? `${fixed(100 * r.top1, 1)} (${r.n})` : "";
  };
  return {
    columns: ["detector", ...columns.map(([s, k]) => `${k}, ${s}`)],
    rows: detectors.map((d) => [d, ...columns.map(([s, k]) => cell(d, s, k))]),
  };
}
