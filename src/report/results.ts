/**
 * Everything the report shows, computed from a run's stored data without writing anything:
 * the tables (as numbers and as formatted text), the figures' inputs and the list of what
 * cannot be shown and why. {@linkcode buildReport} writes it out; notebooks display it.
 *
 * @module
 */
import type { Fig5Row, PassKRow } from "../run/schema.ts";
import { figure1 } from "../plots/fig1.ts";
import { figure5 } from "../plots/fig5.ts";
import { figure6, type LogpCurve, logpCurves } from "../plots/fig6.ts";
import type { Figure } from "../plots/figure.ts";
import { computeDetectors, type DetectorResults } from "../method/detectors.ts";
import { detectorSummary, detectorText } from "./detector_table.ts";
import { PAPER_FIGURE1 } from "./paper_numbers.ts";
import { passkRows, passkText } from "./passk_table.ts";
import type { RunData } from "../run/data.ts";
import { hasGroundTruth, type RolloutSummary, rolloutSummary } from "./rollout_summary.ts";
import { computeTable1, referenceSeeds, type Table1Row, table1Text } from "./table1.ts";
import type { TextTable } from "./table_text.ts";

/** Something the report cannot show, and why. */
export interface MissingArtifact {
  artifact: string;
  reason: string;
}

/** The report's numbers; a field is null when its inputs are absent. */
export interface RunResults {
  table1: Table1Row[] | null;
  detectors: DetectorResults | null;
  passk: PassKRow[] | null;
  fig5: Fig5Row[] | null;
  logp: LogpCurve[] | null;
  /** Whether the task knows each trajectory's first error (the world does; GSM8K, MATH do not). */
  groundTruth: boolean;
  /** Without ground truth: what the rollouts show instead of a detector table (null without rollouts). */
  rolloutSummary: RolloutSummary | null;
  /** The same tables as formatted text (what the CSVs and report.md contain). */
  tables: {
    table1: TextTable | null;
    detectors: TextTable | null;
    /** Top-1 rates by detector, sample and kind (report.md shows this; the CSV has every column). */
    detectorSummary: TextTable | null;
    passk: TextTable | null;
  };
  missing: MissingArtifact[];
}

const nonEmpty = <T>(rows: T[] | null): T[] | null => (rows && rows.length > 0 ? rows : null);
const absent = (what: string, rows: unknown[] | null) =>
  `${what} ${
    rows === null ? "is absent" : "has no rows (no data: its stage found nothing to record)"
  }`;

/** The report's tables and figure inputs from the run's data. */
export function computeResults(data: RunData): RunResults {
  const missing: MissingArtifact[] = [];
  const evaluation = nonEmpty(data.evaluation);
  const table1 = evaluation ? computeTable1(evaluation) : null;
  if (!table1) {
    missing.push({
      artifact: "Table 1",
      reason: `${
        absent("data/evaluation.parquet", data.evaluation)
      } (written by the evaluation stage)`,
    });
  } else if (!table1.some((r) => r.method === "cdpo")) {
    missing.push({
      artifact: "Table 1 intervals and p-values",
      reason: "data/evaluation.parquet has no cdpo rows to compare the other methods with",
    });
  }

  const scores = nonEmpty(data.tokenScores);
  const rollouts = nonEmpty(data.rollouts);
  let detectors: DetectorResults | null = null;
  const groundTruth = hasGroundTruth(data.trajectories);
  if (!groundTruth) {
    // No first errors to score detectors against: the rollout analysis stands in (report.md).
    if (scores && rollouts) {
      detectors = { ...computeDetectors(data.trajectories!, scores, rollouts), rows: [] };
    }
  } else if (!data.trajectories) {
    missing.push({
      artifact: "Detector table",
      reason:
        "data/trajectories.parquet is absent (written by the sampling stage), so no first errors are known",
    });
  } else if (!scores && !rollouts) {
    missing.push({
      artifact: "Detector table",
      reason:
        "neither data/token_scores.parquet nor data/rollouts.parquet has rows (written by the contrastive and rollout stages)",
    });
  } else {
    detectors = computeDetectors(data.trajectories, scores, rollouts, data.ceBetaSweep ?? []);
    if (!scores) {
      missing.push({
        artifact: "Detectors ce_argmin, random, min_policy_prob",
        reason: `${
          absent("data/token_scores.parquet", data.tokenScores)
        } (written by the contrastive stage)`,
      });
    }
    if (!rollouts) {
      missing.push({
        artifact: "Detector rollout and the AUROC of s_t against rollout labels",
        reason: `${absent("data/rollouts.parquet", data.rollouts)} (written by the rollout stage)`,
      });
    }
    if (scores) {
      const why = unusable(
        scores,
        ["s_t_out", "lp_pos_out", "lp_neg_out"],
        "data/token_scores.parquet",
        "the run did not cross-fit",
      );
      if (why) {
        missing.push({
          artifact: "Detector rows out of sample (sample = out)",
          reason: `${why}; the rows in sample are shown`,
        });
      }
      if (data.ceBetaSweep === null) {
        missing.push({
          artifact: "Detectors ce_beta_<b> (s_t at other betas)",
          reason: "data/ce_beta_sweep.parquet is absent (the contrastive stage writes it beside " +
            "data/token_scores.parquet; runs of older cdpo-kits have none)",
        });
      }
    }
  }

  const passk = nonEmpty(data.passk) ? passkRows(data.passk!) : null;
  if (!passk) {
    missing.push({
      artifact: "Figure 1 and tables/passk.csv",
      reason: `${absent("data/passk.parquet", data.passk)} (written by the rollout stage)`,
    });
  }
  const fig5 = nonEmpty(data.fig5);
  if (!fig5) {
    missing.push({
      artifact: "Figure 5",
      reason: `${absent("data/fig5.parquet", data.fig5)} (written by the evaluation stage)`,
    });
  }
  const logp = data.metrics ? logpCurves(data.metrics) : [];
  if (logp.length === 0) {
    missing.push({
      artifact: "Figure 6",
      reason: data.metrics
        ? "data/metrics.parquet has no logp_chosen/logp_rejected for dpo, rpo or cdpo"
        : "data/metrics.parquet is absent (written by the training stage)",
    });
  } else if (logp.every((c) => c.source === "batch")) {
    const why = unusable(
      data.metrics!,
      ["eval_logp_chosen", "eval_logp_rejected", "eval_logp_critical"],
      "data/metrics.parquet",
      "the run held out no pairs",
    );
    missing.push({
      artifact: "Figure 6 on held-out pairs, with the rejected critical tokens' curves",
      reason: `${
        why ?? "data/metrics.parquet has no held-out log-probs for dpo, rpo or cdpo"
      }; Figure 6 shows the log-probs of each step's training batch instead`,
    });
  }
  return {
    table1,
    detectors,
    passk,
    fig5,
    logp: logp.length > 0 ? logp : null,
    groundTruth,
    rolloutSummary: !groundTruth && rollouts ? rolloutSummary(rollouts, scores) : null,
    tables: {
      table1: table1 ? table1Text(table1, referenceSeeds(evaluation!)) : null,
      detectors: detectors && groundTruth ? detectorText(detectors.rows) : null,
      detectorSummary: detectors && groundTruth ? detectorSummary(detectors.rows) : null,
      passk: passk ? passkText(passk) : null,
    },
    missing,
  };
}

/**
 * Why `columns` of a table's rows cannot be used: the file lacks some of them (it was written by
 * an older cdpo-kit, whose tables had fewer columns), or every value is null (`nullWhy`); null
 * when some value is there. `rows` is not empty.
 */
function unusable(
  rows: readonly object[],
  columns: readonly string[],
  file: string,
  nullWhy: string,
): string | null {
  const lacking = columns.filter((c) => !(c in rows[0]));
  if (lacking.length > 0) {
    return `${file} has no ${lacking.join(", ")} column${
      lacking.length === 1 ? "" : "s"
    } (written by an older cdpo-kit, before it recorded them)`;
  }
  const values = rows as readonly Record<string, unknown>[];
  if (values.some((r) => columns.some((c) => r[c] !== null && r[c] !== undefined))) return null;
  return `${file} has no values in ${columns.join(", ")} (${nullWhy})`;
}

/** The paper's GSM8K Figure 1 values, drawn dashed behind the run's curves. */
export const PAPER_GSM8K_REFERENCE = {
  label: "paper, GSM8K",
  withCritical: PAPER_FIGURE1.gsm8k.withCritical,
  without: [[1, PAPER_FIGURE1.gsm8k.withoutAt1], [64, PAPER_FIGURE1.gsm8k.withoutAt64]],
  kMax: 64,
} as const;

/** The report's figures whose inputs exist, in report order. */
export function resultFigures(results: RunResults, data: RunData): Figure[] {
  const out: Figure[] = [];
  if (results.passk) out.push(figure1(results.passk, PAPER_GSM8K_REFERENCE));
  if (results.fig5) out.push(figure5(results.fig5));
  if (results.logp) out.push(figure6(data.metrics!));
  return out;
}

/** Names of every figure the report can have (stale ones are deleted on rebuild). */
export const REPORT_FIGURES = ["fig1", "fig5", "fig6"] as const;
