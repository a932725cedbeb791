/**
 * The solution format: a start line, one line per step led by a free connective and a meaning
 * word, then the answer. Example (the `<eos>` the tokenizer appends is not part of it):
 *
 * `start 4 7 . then gain 4 7 + 1 2 = 5 9 . so lose 5 9 - 9 = 5 0 . answer 5 0`
 *
 * @module
 */

import type { Random } from "../../random.ts";
import { applyOperation } from "./arithmetic.ts";
import { CONNECTIVES, MEANING_WORDS, OPERATOR_SYMBOLS, SOLUTION_WORDS } from "./lexicon.ts";
import type { Operation } from "./params.ts";
import type { WorldStep } from "./problem.ts";
import { spellNumber, worldTokens } from "./text.ts";

/** One written step of a solution, right or wrong: `connective meaning left op operand = result .` */
export interface SolutionLine {
  connective: string;
  /** The operation written (meaning word and operator symbol follow it). */
  operation: Operation;
  left: number;
  operand: number;
  result: number;
}

/** A written solution: its start amount, its lines and the amount it answers. */
export interface WrittenSolution {
  start: number;
  lines: SolutionLine[];
  answer: number;
}

/** A connective drawn with the probabilities of {@linkcode CONNECTIVES}. */
export function drawConnective(random: Random): string {
  return CONNECTIVES[random.weighted(CONNECTIVES.map((c) => c.probability))].word;
}

/** The correct written solution of a problem's steps, with connectives drawn from `random`. */
export function canonicalSolution(
  start: number,
  steps: readonly WorldStep[],
  random: Random,
): WrittenSolution {
  const lines = steps.map((step) => ({
    connective: drawConnective(random),
    operation: step.operation,
    left: step.before,
    operand: step.operand,
    result: step.after,
  }));
  return { start, lines, answer: steps.length ? steps[steps.length - 1].after : start };
}

/** The text of a written solution. */
export function renderSolution(solution: WrittenSolution): string {
  const { start, answer, equals, stop } = SOLUTION_WORDS;
  const parts = [start, spellNumber(solution.start), stop];
  for (const line of solution.lines) {
    parts.push(
      line.connective,
      MEANING_WORDS[line.operation],
      spellNumber(line.left),
      OPERATOR_SYMBOLS[line.operation],
      spellNumber(line.operand),
      equals,
      spellNumber(line.result),
      stop,
    );
  }
  parts.push(answer, spellNumber(solution.answer));
  return parts.join(" ");
}

/**
 * Read a solution text back into its lines, or null when it does not follow the format (used by
 * checks that recompute every line; the meaning word and operator must agree).
 */
export function parseSolution(text: string): WrittenSolution | null {
  const tokens = worldTokens(text);
  let at = 0;
  const take = (expected?: string): string | null => {
    const token = tokens[at];
    if (token === undefined || (expected !== undefined && token !== expected)) return null;
    at++;
    return token;
  };
  const number = (): number | null => {
    let digits = "";
    while (at < tokens.length && /^\d$/.test(tokens[at])) digits += tokens[at++];
    return digits === "" ? null : Number(digits);
  };
  const connectives = new Set(CONNECTIVES.map((c) => c.word));
  const operationOfMeaning = new Map(
    Object.entries(MEANING_WORDS).map(([operation, word]) => [word, operation as Operation]),
  );
  if (take(SOLUTION_WORDS.start) === null) return null;
  const start = number();
  if (start === null || take(SOLUTION_WORDS.stop) === null) return null;
  const lines: SolutionLine[] = [];
  while (connectives.has(tokens[at])) {
    const connective = take()!;
    const operation = operationOfMeaning.get(tokens[at++]);
    if (operation === undefined) return null;
    const left = number();
    if (left === null || take(OPERATOR_SYMBOLS[operation]) === null) return null;
    const operand = number();
    if (operand === null || take(SOLUTION_WORDS.equals) === null) return null;
    const result = number();
    if (result === null || take(SOLUTION_WORDS.stop) === null) return null;
    lines.push({ connective, operation, left, operand, result });
  }
  if (take(SOLUTION_WORDS.answer) === null) return null;
  const answer = number();
  if (answer === null || at !== tokens.length) return null;
  return { start, lines, answer };
}

/** Whether every line of a written solution is arithmetically right and chained correctly. */
export function isConsistent(solution: WrittenSolution): boolean {
  let running = solution.start;
  for (const line of solution.lines) {
    if (line.left !== running) return false;
    if (applyOperation(line.operation, line.left, line.operand) !== line.result) return false;
    running = line.result;
  }
  return solution.answer === running;
}
