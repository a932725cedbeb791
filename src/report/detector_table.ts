/**
 * tables/detectors.csv as text: how well each detector of critical tokens finds the world's
 * ground-truth first error (computed in src/method/detectors.ts).
 *
 * @module
 */
import type { DetectorRow } from "../method/detectors.ts";
import { fixed, type TextTable } from "./table_text.ts";

/** Columns of tables/detectors.csv, in order. */
export const DETECTOR_COLUMNS = ["detector", "top1", "within1", "top3", "auroc", "n"] as const;

/** What each column means (shown under the table in report.md). */
export const DETECTOR_LEGEND =
  "top1: fraction of incorrect trajectories whose most suspicious token is the ground-truth " +
  "first error; within1: fraction whose most suspicious token is at most one token from it; top3: the first error is among " +
  "the three most suspicious tokens; auroc: area under the ROC curve of the detector's " +
  "per-token suspicion score (−s_t, random, −log-prob under the policy, correctness drop) " +
  "against the first-error label, pooled over the tokens of those trajectories; n: number of " +
  "trajectories. ce_argmin, random and min_policy_prob are scored on the trajectories with " +
  "contrastive scores, rollout on the trajectories searched by rollouts.";

/** The detector table as text cells: rates and AUROC as fractions with 4 decimals. */
export function detectorText(rows: readonly DetectorRow[]): TextTable {
  return {
    columns: DETECTOR_COLUMNS,
    rows: rows.map((r) => [
      r.detector,
      fixed(r.top1, 4),
      fixed(r.within1, 4),
      fixed(r.top3, 4),
      fixed(r.auroc, 4),
      String(r.n),
    ]),
  };
}
