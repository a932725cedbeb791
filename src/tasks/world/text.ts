/**
 * The world's text contract: lower-case tokens separated by single spaces, every number written
 * digit by digit. Whitespace splitting is therefore the tokenization, and joining with spaces
 * the decoding.
 *
 * @example
 * ```ts
 * import { joinDigits, spellNumber } from "./text.ts";
 * if (spellNumber(47) !== "4 7") throw new Error("digit by digit");
 * if (joinDigits("mia has 4 7 apples .") !== "mia has 47 apples .") throw new Error("display");
 * ```
 * @module
 */

/**
 * A non-negative integer written digit by digit (`47` → `"4 7"`).
 *
 * @throws {RangeError} when `value` is not a non-negative safe integer.
 */
export function spellNumber(value: number): string {
  return numberTokens(value).join(" ");
}

/** The digit tokens of a non-negative integer (`47` → `["4", "7"]`). */
export function numberTokens(value: number): string[] {
  if (!Number.isSafeInteger(value) || value < 0) {
    throw new RangeError(`Cannot spell number: value ${value} is not a non-negative safe integer`);
  }
  return String(value).split("");
}

/** The tokens of world text (split on single spaces; empty text has no tokens). */
export function worldTokens(text: string): string[] {
  return text === "" ? [] : text.split(" ");
}

/**
 * Text for display: runs of single-digit tokens joined into numbers (`"4 7"` → `"47"`).
 * Lossy on purpose (two adjacent numbers would merge), so never feed the result back to a model.
 */
export function joinDigits(text: string): string {
  return text.replace(/(?<![^\s])\d(?: \d)+(?![^\s])/g, (run) => run.replaceAll(" ", ""));
}
