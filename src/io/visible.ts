/**
 * Text shown in an error message with nothing invisible in it: a byte-order mark, a zero-width
 * space or a control character in a data file would otherwise make the message itself misleading
 * ("unexpected token ''"). Each such character becomes a `\u{...}` escape.
 *
 * @module
 */

// Controls (except tab), format characters (BOM, zero-width and bidi marks), separators other
// than the plain space, and lone surrogates.
const INVISIBLE = /[\p{Cc}\p{Cf}\p{Zl}\p{Zp}\u00A0\u2000-\u200A\u202F\u205F\u3000]|\p{Cs}/gu;

/**
 * `text` with every invisible character written as `\u{XXXX}` (tabs kept).
 *
 * @example
 * ```ts
 * import { visible } from "./visible.ts";
 * console.assert(visible("\uFEFF{") === "\\u{FEFF}{");
 * ```
 */
export function visible(text: string): string {
  return text.replace(
    INVISIBLE,
    (c) => c === "\t" ? c : `\\u{${c.codePointAt(0)!.toString(16).toUpperCase().padStart(4, "0")}}`,
  );
}
