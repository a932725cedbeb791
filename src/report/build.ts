/**
 * Builds a run's tables, figures and report.md from its stored data: a pure function of
 * `data/` (and manifest.json), so rebuilding gives the same bytes and needs no model. Each
 * output is built only when its inputs exist; report.md lists what is missing and why. Outputs
 * whose inputs have gone are deleted, so nothing stale survives a rebuild.
 *
 * @module
 */
import { basename, resolve } from "node:path";
import { writeFileAtomic } from "../io/atomic.ts";
import { runPaths } from "../run/paths.ts";
import type { Figure } from "../plots/figure.ts";
import { canExportStatic, exportStatic } from "../plots/static_export.ts";
import { renderReport, type ReportFigure, type ReportInputs } from "./report_md.ts";
import { computeResults, REPORT_FIGURES, resultFigures, type RunResults } from "./results.ts";
import { readRunData } from "../run/data.ts";
import { toCsv } from "./table_text.ts";

/** Options of {@linkcode buildReport}. */
export interface BuildReportOptions {
  /**
   * Write PNGs beside the HTML figures (needs Chromium; without it the report says so).
   * @default {true}
   */
  png?: boolean;
}

/** What a build wrote. */
export interface BuildReportResult {
  /** Paths written, in order. */
  written: string[];
  results: RunResults;
  /** The figures built (with `png` filled when exported). */
  figures: Figure[];
  /** What report.md was rendered from. */
  inputs: ReportInputs;
}

/**
 * Reads the run in `runDir` and writes tables/, figures/ and report.md, each atomically.
 * Throws {@linkcode NotARunDirectoryError} when `runDir` has no data/ folder.
 */
export async function buildReport(
  runDir: string,
  options: BuildReportOptions = {},
): Promise<BuildReportResult> {
  const data = readRunData(runDir);
  const paths = runPaths(runDir);
  const results = computeResults(data);
  const missing = [...results.missing];
  const written: string[] = [];
  const write = async (path: string, content: string | Uint8Array) => {
    await writeFileAtomic(path, content);
    written.push(path);
  };
  // An output whose inputs are gone would describe data the run no longer has.
  const removeStale = (path: string) => Deno.remove(path).catch(() => {});

  const tableFiles = [
    [results.tables.table1, paths.table1],
    [results.tables.detectors, paths.detectors],
    [results.tables.passk, paths.passkCsv],
  ] as const;
  for (const [table, path] of tableFiles) {
    if (table) await write(path, toCsv(table));
    else await removeStale(path);
  }

  const wantPng = options.png ?? true;
  const png = wantPng && canExportStatic();
  if (wantPng && !png) {
    missing.push({
      artifact: "PNG figures",
      reason:
        "Chromium is not installed, so the figures are HTML only (`deno task setup` installs it)",
    });
  }
  const figures = resultFigures(results, data);
  const reportFigs: ReportFigure[] = [];
  for (const figure of figures) {
    await write(paths.figure(figure.name, "html"), await figure.toHtml());
    if (png) {
      figure.png = await exportStatic(figure, "png");
      await write(paths.figure(figure.name, "png"), figure.png);
    } else await removeStale(paths.figure(figure.name, "png"));
    reportFigs.push({ name: figure.name, title: figure.title, png });
  }
  for (const name of REPORT_FIGURES) {
    if (figures.some((f) => f.name === name)) continue;
    await removeStale(paths.figure(name, "html"));
    await removeStale(paths.figure(name, "png"));
  }

  const inputs: ReportInputs = {
    ...results,
    runName: basename(resolve(runDir)),
    manifest: data.manifest,
    tuning: data.tuning,
    figures: reportFigs,
    missing,
  };
  await write(paths.report, renderReport(inputs));
  return { written, results, figures, inputs };
}
