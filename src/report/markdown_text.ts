/**
 * Text from outside the kit (a run's folder name, a preset's file name) placed in report.md so
 * that it shows literally: escaped in running text, or as a code span that no backtick in the
 * text can close. Invisible characters are shown as escapes.
 *
 * @module
 */
import { visible } from "../io/visible.ts";

/**
 * `text` for running Markdown text (not at the start of a line): every character that can be
 * syntax there (emphasis, code, links, a heading's closing `#`s, GFM tables and strikethrough)
 * is backslash-escaped, and `<`, `>` and `&` become entities (no raw HTML).
 *
 * @example
 * ```ts
 * import { markdownText } from "./markdown_text.ts";
 * console.assert(markdownText("a*b* <i>") === "a\\*b\\* &lt;i&gt;");
 * ```
 */
export function markdownText(text: string): string {
  return visible(text)
    .replace(/[\\`*_[\]()#|~]/g, (c) => `\\${c}`)
    .replaceAll("&", "&amp;")
    .replaceAll("<", "&lt;")
    .replaceAll(">", "&gt;");
}

/**
 * `text` as a Markdown code span: fenced by one more backtick than its longest run of
 * backticks, padded with spaces when it starts or ends with one (CommonMark 6.1).
 *
 * @example
 * ```ts
 * import { markdownCode } from "./markdown_text.ts";
 * console.assert(markdownCode("a`b") === "``a`b``");
 * ```
 */
export function markdownCode(text: string): string {
  const shown = visible(text);
  const longest = Math.max(0, ...(shown.match(/`+/g) ?? []).map((run) => run.length));
  const fence = "`".repeat(longest + 1);
  const pad = longest > 0 && (/^[` ]|[` ]$/.test(shown)) ? " " : "";
  return `${fence}${pad}${shown}${pad}${fence}`;
}
