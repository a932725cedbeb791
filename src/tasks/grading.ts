/**
 * Answer extraction and grading, for the embedded world's format and the GSM8K convention.
 *
 * - World: the digits right after the last `answer` token, joined (`answer 5 0` → 50).
 * - GSM8K: the number after the first "The answer is" (case-insensitive), else the last number
 *   in the text; `$` and thousands separators (`1,234`) are removed first; negatives and
 *   decimals are read. Reference answers follow `####` in the data set's answer field.
 * - Comparison is numeric with a tolerance, so `72.0` matches `72`.
 *
 * @example
 * ```ts
 * import { extractGsm8kAnswer, extractWorldAnswer } from "./grading.ts";
 * if (extractWorldAnswer("start 4 7 . answer 4 7") !== 47) throw new Error("world");
 * if (extractGsm8kAnswer("She pays $1,234. The answer is 1,234.") !== 1234) throw new Error("gsm8k");
 * ```
 * @module
 */

/** Tolerance of {@linkcode answersMatch}. */
export interface AnswerTolerance {
  /** Relative tolerance (the paper's MATH grading uses 1e-4). @default 1e-4 */
  relative?: number;
  /** Absolute tolerance, for answers near zero. @default 1e-9 */
  absolute?: number;
}

const ANSWER_PHRASE = /the answer is/i;
/**
 * A number: an optional minus sign (only when not glued to a preceding word or digit, so `5-3`
 * reads as 5 and 3), then digits with an optional decimal part, or a bare decimal part (`.5`).
 */
const NUMBER = /(?:(?<![\w.])-)?(?:\d+(?:\.\d+)?|\.\d+)/g;

/**
 * The answer of a world response: the digit tokens right after its last `answer` token, joined.
 * Null when there is no `answer` or no digit follows it. Tokens after the digits are ignored
 * (the oracle, not the grader, judges the format).
 */
export function extractWorldAnswer(response: string | readonly string[]): number | null {
  const tokens = typeof response === "string" ? response.split(/\s+/).filter(Boolean) : response;
  const at = tokens.lastIndexOf("answer");
  if (at < 0) return null;
  let digits = "";
  for (let i = at + 1; i < tokens.length && /^\d$/.test(tokens[i]); i++) digits += tokens[i];
  return digits === "" ? null : Number(digits);
}

/** Whether a world response's answer equals `expected`. */
export function gradeWorld(response: string | readonly string[], expected: number): boolean {
  return answersMatch(extractWorldAnswer(response), expected);
}

/**
 * The answer of a GSM8K-style response: the first number after the first "The answer is", else
 * the last number in the text; null when there is none.
 */
export function extractGsm8kAnswer(text: string): number | null {
  const cleaned = stripNumberFormatting(text);
  const phrase = ANSWER_PHRASE.exec(cleaned);
  if (phrase) {
    const after = numbersIn(cleaned.slice(phrase.index + phrase[0].length));
    if (after.length > 0) return after[0];
  }
  const all = numbersIn(cleaned);
  return all.length > 0 ? all[all.length - 1] : null;
}

/**
 * The reference answer of a GSM8K record's `answer` field: the number after `####`.
 *
 * @throws {RangeError} when the field has no `####` followed by a number.
 */
export function gsm8kReferenceAnswer(answerField: string): number {
  const at = answerField.lastIndexOf("####");
  const numbers = at < 0 ? [] : numbersIn(stripNumberFormatting(answerField.slice(at + 4)));
  if (numbers.length === 0) {
    throw new RangeError(
      `Cannot read a GSM8K reference answer: ${JSON.stringify(answerField.slice(-60))} has no ` +
        `"#### <number>" line; pass the record's "answer" field`,
    );
  }
  return numbers[0];
}

/** Whether a GSM8K-style response's answer equals `expected`. */
export function gradeGsm8k(
  text: string,
  expected: number,
  tolerance: AnswerTolerance = {},
): boolean {
  return answersMatch(extractGsm8kAnswer(text), expected, tolerance);
}

/**
 * Whether an extracted answer equals the expected one within
 * `max(absolute, relative * |expected|)`. A missing answer (null) never matches.
 */
export function answersMatch(
  predicted: number | null,
  expected: number,
  tolerance: AnswerTolerance = {},
): boolean {
  if (predicted === null || !Number.isFinite(predicted) || !Number.isFinite(expected)) return false;
  const relative = tolerance.relative ?? 1e-4;
  const absolute = tolerance.absolute ?? 1e-9;
  return Math.abs(predicted - expected) <= Math.max(absolute, relative * Math.abs(expected));
}

/** Remove `$` and the commas of thousands groups (`1,234,567`); other commas stay (`1, 2`). */
function stripNumberFormatting(text: string): string {
  return text.replaceAll("$", "").replace(/(?<=\d),(?=\d{3}(?!\d))/g, "");
}

function numbersIn(text: string): number[] {
  return [...text.matchAll(NUMBER)].map((m) => Number(m[0]));
}
