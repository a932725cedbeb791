/**
 * A run's headline numbers next to the paper's (method.md; Llama-3-8B on GSM8K and MATH500):
 * Table 1 accuracies and gains over the base model, Figure 1's pass@k end points, and the
 * direction Figure 6's log-probabilities move in. The scales differ (a tiny policy on a synthetic
 * world against an 8B model on real data sets): compare shapes and signs, not values.
 *
 * @module
 */
import { logpCurves } from "../plots/fig6.ts";
import { TableView } from "../report/table_view.ts";
import { methodLabel } from "../method/methods.ts";
import { PAPER_FIGURE1, PAPER_TABLE1 } from "../report/paper_numbers.ts";
import { computeResults } from "../report/results.ts";
import { fixed } from "../report/table_text.ts";
import type { NotebookRun } from "./notebook_run.ts";
import { MissingView } from "./run_views.ts";

const signed = (
  x: number | null,
  digits = 1,
) => (x === null ? "" : `${x >= 0 ? "+" : ""}${fixed(x, digits)}`);

/** Table 1 of the run beside the paper's: accuracy and gain over the base model, per method. */
export function table1VsPaper(run: NotebookRun): TableView | MissingView {
  const table = computeResults(run.data).table1;
  if (!table) return new MissingView("Table 1", "the run has no data/evaluation.parquet rows");
  const base = table.find((r) => r.method === "base")?.accuracy ?? null;
  const paperBase = PAPER_TABLE1.find((r) => r.method === "base")!;
  return new TableView(
    `Table 1: run ${run.name} beside the paper`,
    {
      columns: [
        "method",
        "run (%)",
        "run gain vs base",
        "paper GSM8K (%)",
        "GSM8K gain",
        "paper MATH500 (%)",
        "MATH500 gain",
      ],
      rows: table.map((r) => {
        const paper = PAPER_TABLE1.find((p) => p.method === r.method);
        return [
          methodLabel(r.method),
          fixed(r.accuracy, 1),
          base === null ? "" : signed(r.accuracy - base),
          paper ? fixed(paper.gsm8k, 1) : "",
          paper ? signed(paper.gsm8k - paperBase.gsm8k) : "",
          paper ? fixed(paper.math500, 1) : "",
          paper ? signed(paper.math500 - paperBase.math500) : "",
        ];
      }),
    },
    "The paper has no 'DPO (from SFT)' row in these columns (its second DPO run); its numbers are for Llama-3-8B.",
  );
}

/** Figure 1's end points of the run beside the paper's. */
export function figure1VsPaper(run: NotebookRun): TableView | MissingView {
  const passk = computeResults(run.data).passk;
  if (!passk || passk.length === 0) {
    return new MissingView("Figure 1", "the run has no data/passk.parquet rows");
  }
  const first = passk[0], last = passk[passk.length - 1];
  const gsm = PAPER_FIGURE1.gsm8k, math = PAPER_FIGURE1.math;
  return new TableView(
    `Figure 1: run ${run.name} beside the paper (pass@k in %)`,
    {
      columns: ["quantity", "run", "paper GSM8K", "paper MATH"],
      rows: [
        [
          "with critical token, highest pass@k over k",
          fixed(Math.max(...passk.map((p) => p.with_critical)), 1),
          fixed(gsm.withCritical, 1),
          fixed(math.withCritical, 1),
        ],
        [
          `without, pass@1`,
          fixed(first.without_critical, 1),
          fixed(gsm.withoutAt1, 1),
          fixed(math.withoutAt1, 1),
        ],
        [
          `without, pass@${last.k} (paper: pass@64)`,
          fixed(last.without_critical, 1),
          fixed(gsm.withoutAt64, 1),
          fixed(math.withoutAt64, 1),
        ],
      ],
    },
    "The paper searched 100 trajectories with 64 samples per prefix; the run's samples per prefix set its largest k.",
  );
}

/** What the paper reports for each method's Figure 6 curves (method.md section 4). */
const PAPER_FIG6: Record<string, string> = {
  dpo: "both fall",
  rpo: "chosen rises",
  cdpo: "chosen rises, rejected falls the most",
};

/** Figure 6 in numbers: how far the chosen and rejected log-probs moved, beside the paper's description. */
export function figure6VsPaper(run: NotebookRun): TableView | MissingView {
  const curves = run.data.metrics ? logpCurves(run.data.metrics) : [];
  if (curves.length === 0) {
    return new MissingView(
      "Figure 6",
      "the run has no log-probs of dpo, rpo or cdpo in data/metrics.parquet",
    );
  }
  // Mean of the first and last quarter of the steps: single steps see different batches.
  const ends = (xs: readonly (number | null)[]) => {
    const v = xs.filter((x): x is number => x !== null);
    if (v.length < 2) return null;
    const q = Math.max(1, Math.floor(v.length / 4));
    const mean = (a: number[]) => a.reduce((s, x) => s + x, 0) / a.length;
    return mean(v.slice(-q)) - mean(v.slice(0, q));
  };
  return new TableView(
    `Figure 6 in numbers: run ${run.name}`,
    {
      columns: ["method", "steps", "Δ logp chosen", "Δ logp rejected", "paper"],
      rows: curves.map((c) => [
        methodLabel(c.method),
        String(c.step.length),
        signed(ends(c.chosen.mean), 2),
        signed(ends(c.rejected.mean), 2),
        PAPER_FIG6[c.method] ?? "",
      ]),
    },
    "Δ: mean over the last quarter of the logged steps minus mean over the first quarter (nats, " +
      "mean over seeds; held-out pairs when the run measured them).",
  );
}
