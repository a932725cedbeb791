/** Tables, figures and report.md of a run, rebuilt from its stored data alone. @module */
export { buildReport, type BuildReportOptions, type BuildReportResult } from "./build.ts";
export { computeResults, type MissingArtifact, resultFigures, type RunResults } from "./results.ts";
export {
  computeTable1,
  pairWithReference,
  referenceSeeds,
  type Table1Row,
  table1Text,
} from "./table1.ts";
export { DETECTOR_LEGEND, detectorText } from "./detector_table.ts";
export { PASSK_LEGEND, passkText } from "./passk_table.ts";
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
export { PAPER_FIGURE1, PAPER_TABLE1 } from "./paper_numbers.ts";
export { TableView } from "./table_view.ts";
