/** Tables, figures and report.md of a run, rebuilt from its stored data; notebook views. @module */
export { buildReport, type BuildReportOptions, type BuildReportResult } from "./build.ts";
export { NotARunDirectoryError, readRunData, type RunData, RunDataError } from "./run_data.ts";
export { computeResults, type MissingArtifact, resultFigures, type RunResults } from "./results.ts";
export { computeTable1, pairWithReference, type Table1Row, table1Text } from "./table1.ts";
export {
  computeDetectors,
  type DetectorResults,
  type DetectorRow,
  detectorText,
  rolloutDrops,
} from "./detector_table.ts";
export { passkText } from "./passk_table.ts";
export {
  fixed,
  formatP,
  type TextTable,
  toCsv,
  toHtmlTable,
  toMarkdown,
  toPlainText,
} from "./table_text.ts";
export { interpretationSentences } from "./interpretation.ts";
export { renderReport, type ReportInputs } from "./report_md.ts";
export { METHOD_LABELS, PAPER_FIGURE1, PAPER_TABLE1 } from "./paper_numbers.ts";
export { RunSummary, runSummary, TableView, TrajectoryView, trajectoryView } from "./display.ts";
export { figure1, type PassKReference } from "../plots/fig1.ts";
export { FIG5_CONDITIONS, figure5 } from "../plots/fig5.ts";
export { figure6, type LogpCurve, logpCurves } from "../plots/fig6.ts";
export { rolloutHeatmap, type TokenCell, tokenHeatmap, TokenView } from "../plots/token_heatmap.ts";
