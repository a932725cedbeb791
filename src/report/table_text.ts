/**
 * A table of already formatted cells, and its renderings: CSV (the files under `tables/`),
 * Markdown (report.md), HTML and aligned plain text (notebooks). Numbers are formatted once,
 * before any rendering, so the CSV, the report and a notebook always show the same digits.
 *
 * @module
 */
import { escapeHtml } from "../plots/html_escape.ts";

/** Column names and rows of text cells (an empty string is a missing value). */
export interface TextTable {
  columns: readonly string[];
  rows: readonly (readonly string[])[];
}

/**
 * `x` with exactly `digits` decimals; "" for null, NaN or infinities (a missing value, never a
 * made-up 0). Negative zero prints as zero so a rounding to "-0.00" cannot flip between builds.
 *
 * @example
 * ```ts
 * import { fixed } from "./table_text.ts";
 * if (fixed(-0.0001, 2) !== "0.00" || fixed(null, 2) !== "") throw new Error("fixed");
 * ```
 */
export function fixed(x: number | null | undefined, digits: number): string {
  if (x === null || x === undefined || !Number.isFinite(x)) return "";
  const text = x.toFixed(digits);
  return /^-0\.?0*$/.test(text) ? text.slice(1) : text;
}

/** A p-value: 4 decimals, or 3 significant digits in exponent form below 0.001 (where 4 decimals would keep one digit or none). */
export function formatP(p: number | null | undefined): string {
  if (p === null || p === undefined || !Number.isFinite(p)) return "";
  return p >= 1e-3 ? p.toFixed(4) : p.toExponential(2);
}

/** RFC 4180 CSV with "\n" line ends and a final newline; quotes only cells that need it. */
export function toCsv(table: TextTable): string {
  const cell = (s: string) => (/[",\n\r]/.test(s) ? `"${s.replaceAll('"', '""')}"` : s);
  return [table.columns, ...table.rows].map((row) => row.map(cell).join(",")).join("\n") + "\n";
}

/** A GitHub-flavoured Markdown table; missing cells show as an en dash. */
export function toMarkdown(table: TextTable): string {
  const cell = (s: string) => (s === "" ? "–" : s.replaceAll("|", "\\|"));
  const lines = [
    `| ${table.columns.map(cell).join(" | ")} |`,
    `| ${table.columns.map(() => "---").join(" | ")} |`,
    ...table.rows.map((row) => `| ${row.map(cell).join(" | ")} |`),
  ];
  return lines.join("\n") + "\n";
}

/** An HTML table (for notebooks). */
export function toHtmlTable(table: TextTable, caption?: string): string {
  const head = table.columns.map((c) => `<th>${escapeHtml(c)}</th>`).join("");
  // Numbers right-aligned so their decimals line up.
  const td = (c: string) =>
    /^-?\d/.test(c)
      ? `<td style="text-align:right">${escapeHtml(c)}</td>`
      : `<td>${escapeHtml(c === "" ? "–" : c)}</td>`;
  const body = table.rows.map((row) => `<tr>${row.map(td).join("")}</tr>`).join("\n");
  const cap = caption ? `<caption>${escapeHtml(caption)}</caption>` : "";
  return `<table>${cap}<thead><tr>${head}</tr></thead>\n<tbody>\n${body}\n</tbody></table>`;
}

/** Columns padded to a common width (a plain-text fallback). */
export function toPlainText(table: TextTable): string {
  const all = [table.columns, ...table.rows];
  const widths = table.columns.map((_, j) => Math.max(...all.map((r) => (r[j] ?? "").length)));
  return all.map((r) => r.map((c, j) => c.padEnd(widths[j])).join("  ").trimEnd()).join("\n");
}
