/**
 * A finished run's stored results as notebook outputs: Table 1, the detector table, pass@k, and
 * Figures 1, 5 and 6 with a PNG fallback — the same numbers and figures as its report, computed
 * from its data/ tables (nothing is recomputed from models).
 *
 * @module
 */
import type { Figure } from "../plots/figure.ts";
import { withStatic } from "../plots/static_export.ts";
import { DETECTOR_LEGEND } from "../report/detector_table.ts";
import { TableView } from "../report/table_view.ts";
import { PASSK_LEGEND } from "../report/passk_table.ts";
import { computeResults, resultFigures, type RunResults } from "../report/results.ts";
import { TABLE1_LEGEND } from "../report/table1.ts";
import { describeEnvironment, environmentRows } from "../run/environment.ts";
import type { NotebookRun } from "./notebook_run.ts";

/** A result the run cannot show; renders the reason. */
export class MissingView {
  constructor(readonly what: string, readonly reason: string) {}

  /** Notebook display. */
  [Symbol.for("Jupyter.display")](): Record<string, string> {
    const text = `${this.what} is not available: ${this.reason}`;
    return { "text/html": `<p><i>${text.replaceAll("<", "&lt;")}</i></p>`, "text/plain": text };
  }
}

function results(run: NotebookRun): RunResults {
  return computeResults(run.data);
}

function missing(results: RunResults, artifact: string): MissingView {
  const m = results.missing.find((x) => x.artifact.startsWith(artifact));
  return new MissingView(artifact, m?.reason ?? "its inputs are absent from the run");
}

/** Table 1: greedy test accuracy per method, with cDPO-paired intervals and p-values. */
export function table1View(run: NotebookRun): TableView | MissingView {
  const r = results(run);
  return r.tables.table1
    ? new TableView(
      `Table 1 of run ${run.name}: greedy test accuracy (%)`,
      r.tables.table1,
      TABLE1_LEGEND,
    )
    : missing(r, "Table 1");
}

/** How well each detector finds the ground-truth first error (tables/detectors.csv). */
export function detectorView(run: NotebookRun): TableView | MissingView {
  const r = results(run);
  if (!r.tables.detectors) return missing(r, "Detector table");
  const agreement = r.detectors?.ceVsRolloutAuroc;
  const extra = agreement === null || agreement === undefined
    ? ""
    : ` AUROC of −s_t against the rollout critical token: ${agreement.toFixed(3)} over ${
      r.detectors!.ceVsRolloutTokens
    } tokens.`;
  // Rows the run cannot have (an older kit's run has no out-of-sample scores, say), with why.
  const absent = r.missing.filter((m) => m.artifact.startsWith("Detector"))
    .map((m) => ` Not available: ${m.artifact}: ${m.reason}.`).join("");
  return new TableView(
    `Critical-token detectors of run ${run.name}`,
    r.tables.detectors,
    DETECTOR_LEGEND + extra + absent,
  );
}

/** Figure 1's numbers: pass@k with and without the rollout critical token. */
export function passkView(run: NotebookRun): TableView | MissingView {
  const r = results(run);
  return r.tables.passk
    ? new TableView(`pass@k of run ${run.name} (%)`, r.tables.passk, PASSK_LEGEND)
    : missing(r, "Figure 1");
}

/** Figure `fig1`, `fig5` or `fig6` of the run (interactive, with a PNG fallback when Chromium is present). */
export async function runFigure(
  run: NotebookRun,
  name: "fig1" | "fig5" | "fig6",
): Promise<Figure | MissingView> {
  const r = results(run);
  const figure = resultFigures(r, run.data).find((f) => f.name === name);
  if (!figure) return missing(r, `Figure ${name.slice(3)}`);
  return await withStatic(figure);
}

/** The versions behind this kernel: Deno, the pinned npm packages, and the trainer's Python side. */
export async function environmentView(): Promise<TableView> {
  const env = await describeEnvironment("start");
  return new TableView(
    "Versions on this machine",
    {
      columns: ["component", "version"],
      rows: environmentRows(env).map((r) => [r.component, r.version]),
    },
    "The trainer's versions come from a trainer process it starts and asks over the JSON Lines protocol.",
  );
}
