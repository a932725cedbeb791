/**
 * Objects that render themselves in notebooks (`Symbol.for("Jupyter.display")` returning a
 * MIME bundle with a `text/plain` fallback): a table, a run summary, and one trajectory with
 * its token heat maps.
 *
 * @module
 */
import { basename, resolve } from "node:path";
import { escapeHtml } from "../plots/html_escape.ts";
import { rolloutHeatmap, tokenHeatmap, type TokenView } from "../plots/token_heatmap.ts";
import type { TrajectoryRow } from "../pipeline/schema.ts";
import { interpretationSentences } from "./interpretation.ts";
import { computeResults, type RunResults } from "./results.ts";
import { readRunData, type RunData } from "./run_data.ts";
import { DETECTOR_LEGEND } from "./detector_table.ts";
import { PASSK_LEGEND } from "./passk_table.ts";
import { TABLE1_LEGEND } from "./table1.ts";
import { type TextTable, toHtmlTable, toPlainText } from "./table_text.ts";

/** A formatted table with a title and an optional legend. */
export class TableView {
  constructor(readonly title: string, readonly table: TextTable, readonly legend = "") {}

  /** An HTML fragment: caption, table, legend. */
  toHtml(): string {
    const legend = this.legend
      ? `<p style="font-size:12px;color:#555">${escapeHtml(this.legend)}</p>`
      : "";
    return toHtmlTable(this.table, this.title) + legend;
  }

  /** Aligned plain text. */
  toText(): string {
    return `${this.title}\n${toPlainText(this.table)}`;
  }

  /** Notebook display. */
  [Symbol.for("Jupyter.display")](): Record<string, string> {
    return { "text/html": this.toHtml(), "text/plain": this.toText() };
  }
}

/** A run's tables, interpretation and missing outputs, for a notebook cell. */
export class RunSummary {
  constructor(readonly runName: string, readonly results: RunResults) {}

  /** The tables present, as views. */
  get tables(): TableView[] {
    const t = this.results.tables;
    const out: TableView[] = [];
    if (t.table1) out.push(new TableView("Table 1: greedy test accuracy", t.table1, TABLE1_LEGEND));
    if (t.detectors) {
      out.push(new TableView("Critical-token detectors", t.detectors, DETECTOR_LEGEND));
    }
    if (t.passk) {
      out.push(new TableView("pass@k with and without the critical token", t.passk, PASSK_LEGEND));
    }
    return out;
  }

  /** The interpretation sentences (as in report.md). */
  get sentences(): string[] {
    return interpretationSentences(this.results);
  }

  /** An HTML fragment. */
  toHtml(): string {
    const missing = this.results.missing.length === 0
      ? ""
      : `<p><b>Missing:</b></p><ul>${
        this.results.missing.map((m) =>
          `<li>${escapeHtml(m.artifact)}: ${escapeHtml(m.reason)}</li>`
        ).join("")
      }</ul>`;
    return `<div><h3>Run ${escapeHtml(this.runName)}</h3><p>${
      escapeHtml(this.sentences.join(" "))
    }</p>` +
      this.tables.map((t) => t.toHtml()).join("\n") + missing + "</div>";
  }

  /** Plain text. */
  toText(): string {
    const parts = [
      `Run ${this.runName}`,
      this.sentences.join(" "),
      ...this.tables.map((t) => t.toText()),
    ];
    if (this.results.missing.length > 0) {
      parts.push(
        "Missing:\n" + this.results.missing.map((m) => `- ${m.artifact}: ${m.reason}`).join("\n"),
      );
    }
    return parts.join("\n\n");
  }

  /** Notebook display. */
  [Symbol.for("Jupyter.display")](): Record<string, string> {
    return { "text/html": this.toHtml(), "text/plain": this.toText() };
  }
}

/** The summary of the run in `runDir` (reads its data; writes nothing). */
export function runSummary(runDir: string): RunSummary {
  return new RunSummary(basename(resolve(runDir)), computeResults(readRunData(runDir)));
}

/** One trajectory: its verdict and answer, and its heat maps by s_t and by rollout correctness. */
export class TrajectoryView {
  constructor(
    readonly trajectory: TrajectoryRow | null,
    readonly id: string,
    readonly views: readonly TokenView[],
  ) {}

  #header(): string {
    const t = this.trajectory;
    if (!t) return `Trajectory ${this.id}`;
    const first = t.first_error === null ? "none" : String(t.first_error);
    return `Trajectory ${t.trajectory_id}: ${
      t.correct ? "correct" : "incorrect"
    } (verdict ${t.verdict}), ` +
      `answer ${t.answer ?? "none"}, first error at token ${first}, ${t.n_tokens} tokens`;
  }

  /** An HTML fragment. */
  toHtml(): string {
    const body = this.views.length > 0
      ? this.views.map((v) => v.toHtml()).join("<hr>")
      : `<div>${escapeHtml(this.trajectory?.response ?? "(no tokens stored)")}</div>`;
    return `<div><p><b>${escapeHtml(this.#header())}</b></p>${body}</div>`;
  }

  /** Plain text. */
  toText(): string {
    const body = this.views.length > 0
      ? this.views.map((v) => v.toText()).join("\n\n")
      : this.trajectory?.response ?? "(no tokens stored)";
    return `${this.#header()}\n${body}`;
  }

  /** Notebook display. */
  [Symbol.for("Jupyter.display")](): Record<string, string> {
    return { "text/html": this.toHtml(), "text/plain": this.toText() };
  }
}

/** The view of trajectory `id` from a run's data (heat maps for whichever scores exist). */
export function trajectoryView(data: RunData, id: string): TrajectoryView {
  const trajectory = data.trajectories?.find((t) => t.trajectory_id === id) ?? null;
  const views: TokenView[] = [];
  const scores = data.tokenScores?.filter((r) => r.trajectory_id === id) ?? [];
  if (scores.length > 0) {
    views.push(tokenHeatmap(scores, trajectory ? { firstError: trajectory.first_error } : {}));
  }
  const rollouts = data.rollouts?.filter((r) => r.trajectory_id === id) ?? [];
  if (rollouts.length > 0) views.push(rolloutHeatmap(rollouts));
  if (!trajectory && views.length === 0) {
    throw new RangeError(`Cannot show trajectory ${id}: it is in none of the run's tables`);
  }
  return new TrajectoryView(trajectory, id, views);
}
