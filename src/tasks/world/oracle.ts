/**
 * The first-error oracle: where a response to a world problem first goes wrong, exactly.
 *
 * The canonical solution is a list of slots, one token each: a connective slot accepts any
 * connective, every other slot exactly one token. Since every slot is one token, response token
 * i is judged by slot i. The first error is the first token its slot does not allow: after it no
 * correct solution can follow. A token that breaks the format itself (wrong class, unknown word)
 * makes the verdict "unknown" rather than a guess.
 *
 * @example
 * ```ts
 * import { firstError } from "./oracle.ts";
 * // mia has 4 7 apples . she finds 1 2 apples . how many apples does mia have ?
 * const problem = {
 *   start: 47,
 *   steps: [{ operation: "add" as const, operand: 12, verb: "finds", before: 47, after: 59 }],
 *   answer: 59,
 * };
 * const wrong = "start 4 7 . then lose 4 7 - 1 2 = 3 5 . answer 3 5".split(" ");
 * const verdict = firstError(problem, wrong);
 * if (verdict.kind !== "error" || verdict.index !== 5) throw new Error("`lose` is token 5");
 * ```
 * @module
 */

import { CONNECTIVES, DIGITS, MEANING_WORDS, OPERATOR_SYMBOLS, SOLUTION_WORDS } from "./lexicon.ts";
import type { WorldProblem } from "./problem.ts";
import { numberTokens, worldTokens } from "./text.ts";

/** What a number in the solution is, which decides the failure a wrong digit counts as. */
export type NumberRole = "start" | "left" | "operand" | "result" | "answer";

/** One slot of the canonical solution: the tokens it allows, and what it is. */
export type SolutionSlot =
  | { type: "word"; token: string }
  | { type: "connective" }
  | { type: "meaning"; token: string }
  | { type: "operator"; token: string }
  | { type: "digit"; token: string; role: NumberRole; first: boolean; last: boolean };

/**
 * Why a token is the first error.
 * - `confusion`: the wrong meaning word (the step's operation misread);
 * - `operator`: right meaning word, wrong operator symbol;
 * - `operand`: a number given by the question (the start amount or a step's operand) miscopied;
 * - `copy`: a number carried from the previous line (an equation's left side, the answer) miscopied;
 * - `arithmetic`: a wrong digit (or a missing or extra one) in an equation's result;
 * - `connective`: a step that starts without its connective;
 * - `early_end`: `answer` or the end of the response before the last step;
 * - `extra_step`: another step where `answer` was due;
 * - `extra_tokens`: tokens after the complete answer.
 */
export type FailureKind =
  | "confusion"
  | "operator"
  | "operand"
  | "copy"
  | "arithmetic"
  | "connective"
  | "early_end"
  | "extra_step"
  | "extra_tokens";

/** The oracle's verdict on one response. */
export type OracleVerdict =
  | { kind: "correct" }
  | {
    kind: "error";
    /** Index of the first wrong response token; `tokens.length` when the response ends too early
     * (the end-of-sequence token the tokenizer appends is the wrong token). */
    index: number;
    failure: FailureKind;
    /** What the slot allowed (`"<connective>"` for a connective slot, `"<end>"` past the answer). */
    expected: string;
    /** The token found, or null where the response ended. */
    found: string | null;
  }
  | { kind: "unknown"; index: number; reason: string };

/** Options of {@linkcode firstError}. */
export interface FirstErrorOptions {
  /**
   * Set when the response was cut by a length limit rather than ended by the model: a response
   * that stops before the answer is then "unknown" instead of an early end.
   * @default false
   */
  truncated?: boolean;
}

const ROLE_FAILURE: Readonly<Record<NumberRole, FailureKind>> = {
  start: "operand",
  left: "copy",
  operand: "operand",
  result: "arithmetic",
  answer: "copy",
};

const CONNECTIVE_WORDS = new Set(CONNECTIVES.map((c) => c.word));
const MEANING_SET = new Set(Object.values(MEANING_WORDS));
const OPERATOR_SET = new Set(Object.values(OPERATOR_SYMBOLS));
const DIGIT_SET = new Set(DIGITS);

/** The canonical solution of a problem as slots, one per response token. */
export function solutionSlots(problem: Pick<WorldProblem, "start" | "steps">): SolutionSlot[] {
  const slots: SolutionSlot[] = [];
  const number = (value: number, role: NumberRole) => {
    const digits = numberTokens(value);
    digits.forEach((token, i) =>
      slots.push({ type: "digit", token, role, first: i === 0, last: i === digits.length - 1 })
    );
  };
  slots.push({ type: "word", token: SOLUTION_WORDS.start });
  number(problem.start, "start");
  slots.push({ type: "word", token: SOLUTION_WORDS.stop });
  for (const step of problem.steps) {
    slots.push({ type: "connective" });
    slots.push({ type: "meaning", token: MEANING_WORDS[step.operation] });
    number(step.before, "left");
    slots.push({ type: "operator", token: OPERATOR_SYMBOLS[step.operation] });
    number(step.operand, "operand");
    slots.push({ type: "word", token: SOLUTION_WORDS.equals });
    number(step.after, "result");
    slots.push({ type: "word", token: SOLUTION_WORDS.stop });
  }
  slots.push({ type: "word", token: SOLUTION_WORDS.answer });
  number(
    problem.steps.length ? problem.steps[problem.steps.length - 1].after : problem.start,
    "answer",
  );
  return slots;
}

/**
 * The first error of a response to `problem`, given its tokens (without the end-of-sequence
 * token). See {@linkcode FailureKind} for the failures and {@linkcode OracleVerdict} for indices.
 */
export function firstError(
  problem: Pick<WorldProblem, "start" | "steps">,
  responseTokens: readonly string[],
  options: FirstErrorOptions = {},
): OracleVerdict {
  const slots = solutionSlots(problem);
  const shared = Math.min(slots.length, responseTokens.length);
  for (let i = 0; i < shared; i++) {
    const slot = slots[i];
    const token = responseTokens[i];
    if (allows(slot, token)) continue;
    const error = (failure: FailureKind): OracleVerdict => ({
      kind: "error",
      index: i,
      failure,
      expected: slot.type === "connective" ? "<connective>" : slot.token,
      found: token,
    });
    const unknown = (reason: string): OracleVerdict => ({ kind: "unknown", index: i, reason });
    const previous = slots[i - 1];
    // A digit where a number should have ended: the number is too long.
    if (
      DIGIT_SET.has(token) && previous?.type === "digit" && previous.last && slot.type !== "digit"
    ) {
      return error(ROLE_FAILURE[previous.role]);
    }
    switch (slot.type) {
      case "connective":
        if (token === SOLUTION_WORDS.answer) return error("early_end");
        if (MEANING_SET.has(token)) return error("connective");
        return unknown(`expected a connective, found ${JSON.stringify(token)}`);
      case "meaning":
        if (MEANING_SET.has(token)) return error("confusion");
        return unknown(`expected a meaning word, found ${JSON.stringify(token)}`);
      case "operator":
        if (OPERATOR_SET.has(token)) return error("operator");
        return unknown(`expected an operator, found ${JSON.stringify(token)}`);
      case "digit":
        if (DIGIT_SET.has(token)) return error(ROLE_FAILURE[slot.role]);
        // The token that should follow the number came early: the number is too short.
        if (!slot.first && endsNumber(slots, i, token)) return error(ROLE_FAILURE[slot.role]);
        return unknown(`expected a digit, found ${JSON.stringify(token)}`);
      case "word":
        if (slot.token === SOLUTION_WORDS.answer && CONNECTIVE_WORDS.has(token)) {
          return error("extra_step");
        }
        return unknown(`expected ${JSON.stringify(slot.token)}, found ${JSON.stringify(token)}`);
    }
  }
  if (responseTokens.length < slots.length) {
    const index = responseTokens.length;
    if (options.truncated) {
      return { kind: "unknown", index, reason: "the response was truncated before its answer" };
    }
    const slot = slots[index];
    const expected = slot.type === "connective" ? "<connective>" : slot.token;
    // Ending inside the answer number writes a wrong (shorter) answer; anywhere else it is an early end.
    const failure = slot.type === "digit" && slot.role === "answer" && !slot.first
      ? "copy"
      : "early_end";
    return { kind: "error", index, failure, expected, found: null };
  }
  if (responseTokens.length > slots.length) {
    const token = responseTokens[slots.length];
    const failure = DIGIT_SET.has(token) ? "copy" : "extra_tokens";
    return { kind: "error", index: slots.length, failure, expected: "<end>", found: token };
  }
  return { kind: "correct" };
}

/** {@linkcode firstError} on a response given as world text. */
export function firstErrorInText(
  problem: Pick<WorldProblem, "start" | "steps">,
  responseText: string,
  options: FirstErrorOptions = {},
): OracleVerdict {
  return firstError(problem, worldTokens(responseText), options);
}

/**
 * {@linkcode firstError} on a response given as token ids, with the tokenizer's id-to-token map.
 * Strip the end-of-sequence id and padding first: indices are positions in `responseIds`.
 */
export function firstErrorOfIds(
  problem: Pick<WorldProblem, "start" | "steps">,
  responseIds: readonly number[],
  idToToken: (id: number) => string,
  options: FirstErrorOptions = {},
): OracleVerdict {
  return firstError(problem, responseIds.map(idToToken), options);
}

function allows(slot: SolutionSlot, token: string): boolean {
  return slot.type === "connective" ? CONNECTIVE_WORDS.has(token) : slot.token === token;
}

/** Whether `token` is what follows the number that slot `index` belongs to. */
function endsNumber(slots: readonly SolutionSlot[], index: number, token: string): boolean {
  let next = index;
  while (slots[next]?.type === "digit") next++;
  const after = slots[next];
  if (after === undefined) return false; // the answer: only the end of the response ends it
  if (after.type === "operator") return OPERATOR_SET.has(token);
  return after.type !== "connective" && after.token === token;
}
