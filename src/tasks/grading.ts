/**
 * Answer extraction and grading, for the embedded world's format and the GSM8K convention.
 *
 * - World: the digits right after the last `answer` token, joined (`answer 5 0` → 50), equal to
 *   the integer answer exactly.
 * - GSM8K: the number after the first "The answer is" (case-insensitive), else the last number
 *   in the text; `$` and thousands separators (`1,234`) are removed first; negatives and
 *   decimals are read. Reference answers follow `####` in the data set's answer field. The two
 *   are compared as the data set's own release compares them (grade_school_math's `is_correct`):
 *   the number's text, commas removed, must be the same string. So 120,006 is not 120,000, and
 *   neither is `72.0` the reference `72`.
 *
 * MATH answers are graded in the trainer's Python by math-verify (src/tasks/math500_task.ts).
 *
 * @example
 * ```ts
 * import { extractGsm8kAnswer, extractWorldAnswer, gradeGsm8k } from "./grading.ts";
 * if (extractWorldAnswer("start 4 7 . answer 4 7") !== 47) throw new Error("world");
 * if (extractGsm8kAnswer("She pays $1,234. The answer is 1,234.") !== "1234") throw new Error("gsm8k");
 * if (gradeGsm8k("The answer is 120,006.", "120000")) throw new Error("exact");
 * ```
 * @module
 */

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

/** Whether a world response's answer is exactly the integer `expected`. */
export function gradeWorld(response: string | readonly string[], expected: number): boolean {
  return extractWorldAnswer(response) === expected;
}

/**
 * The answer of a GSM8K-style response as text (`$` and thousands separators removed): the first
 * number after the first "The answer is", else the last number in the text; null when there is
 * none.
 */
export function extractGsm8kAnswer(text: string): string | null {
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
 * The reference answer of a GSM8K record's `answer` field: the number after `####`, as text with
 * commas removed (`#### 1,200` → `1200`).
 *
 * @throws {RangeError} when the field has no `####` followed by a number.
 */
export function gsm8kReferenceAnswer(answerField: string): string {
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

/**
 * Whether a GSM8K-style response's answer is the reference (text after `####`, commas removed):
 * the same string, as the data set's release compares them.
 */
export function gradeGsm8k(text: string, reference: string): boolean {
  const predicted = extractGsm8kAnswer(text);
  return predicted !== null && predicted === reference;
}

/** Remove `$` and the commas of thousands groups (`1,234,567`); other commas stay (`1, 2`). */
function stripNumberFormatting(text: string): string {
  return text.replaceAll("$", "").replace(/(?<=\d),(?=\d{3}(?!\d))/g, "");
}

function numbersIn(text: string): string[] {
  return [...text.matchAll(NUMBER)].map((m) => m[0]);
}
