/**
 * A table that renders itself in notebooks (`Symbol.for("Jupyter.display")` returning a MIME
 * bundle with a `text/plain` fallback).
 *
 * @module
 */
import { escapeHtml } from "../plots/html_escape.ts";
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
