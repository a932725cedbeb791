/** tables/passk.csv: Figure 1's two curves as numbers, straight from data/passk.parquet. @module */
import type { PassKRow } from "../run/schema.ts";
import { fixed, type TextTable } from "./table_text.ts";

/** Columns of tables/passk.csv, in order. */
export const PASSK_COLUMNS = ["k", "with_critical", "without_critical"] as const;

/** What each column means (shown under the table in report.md). */
export const PASSK_LEGEND =
  "k: samples drawn; with_critical: mean pass@k in % of continuations that keep the rollout " +
  "critical token; without_critical: mean pass@k in % after replacing it by an alternative " +
  "token (unbiased estimator, averaged over the incorrect trajectories searched by rollouts).";

/** Rows sorted by k. */
export function passkRows(rows: readonly PassKRow[]): PassKRow[] {
  return [...rows].sort((a, b) => a.k - b.k);
}

/** passk rows as text cells: percentages with 4 decimals (no rounding beyond the stored data's). */
export function passkText(rows: readonly PassKRow[]): TextTable {
  return {
    columns: PASSK_COLUMNS,
    rows: passkRows(rows).map((
      r,
    ) => [String(r.k), fixed(r.with_critical, 4), fixed(r.without_critical, 4)]),
  };
}
