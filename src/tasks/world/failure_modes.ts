/**
 * The systematic, token-localised failure modes planted in the pretraining corpus, so that the
 * policy trained on it learns them:
 *
 * - **greedy trigger**: the verb `borrows` (add) is written with the meaning word `lose` with
 *   probability `greedyTriggerRate` (default 0.6 > 0.5: greedy decoding follows it);
 * - **sampling trigger**: the verb `lends` (subtract) is written with `gain` with probability
 *   `samplingTriggerRate` (default 0.3: only sampling follows it);
 * - **carry slip**: an addition or single-digit multiplication with a carry forgets its lowest
 *   carry with probability `carrySlipRate`;
 * - **borrow slip**: a subtraction with a borrow forgets its lowest borrow with probability
 *   `borrowSlipRate`;
 * - **delayed trap**: a step after one opened with the trap connective (`so`) is written with
 *   the wrong meaning word with probability `delayedTrapRate` (whatever its verb; off at 0). The
 *   connective is an allowed token, so the first wrong token comes a step after the one that
 *   decided the outcome: a rollout search finds the connective, the first-error oracle the
 *   meaning word.
 *
 * After an error the solution continues correctly from the wrong amount (the error propagates),
 * so every error changes the final answer. An error whose path would leave [1, maxValue], divide
 * unevenly or land back on the right answer is not applied (counted as drawn but not applied).
 *
 * @module
 */

import type { Random } from "../../random.ts";
import {
  applyOperation,
  confusedOperation,
  droppedBorrowResult,
  droppedCarryResult,
} from "./arithmetic.ts";
import { TRAP_CONNECTIVE, verbById } from "./lexicon.ts";
import type { WorldParams } from "./params.ts";
import type { WorldProblem, WorldStep } from "./problem.ts";
import { drawConnective, type SolutionLine, type WrittenSolution } from "./solution.ts";

/** The failure modes of the pretraining corpus. */
export const NOISE_KINDS = [
  "greedy_trigger",
  "sampling_trigger",
  "carry_slip",
  "borrow_slip",
  "delayed_trap",
] as const;

/** One of {@linkcode NOISE_KINDS}. */
export type NoiseKind = typeof NOISE_KINDS[number];

/** One error written into a solution: its kind and the step (0-based) it happened at. */
export interface NoiseEvent {
  kind: NoiseKind;
  step: number;
}

/** How often a failure mode could fire, was drawn, and was written. */
export interface NoiseTally {
  /** Steps where the mode could apply (a trigger verb, a carry, a borrow). */
  opportunities: number;
  /** Opportunities where the random draw fired (rate * opportunities in expectation). */
  drawn: number;
  /** Drawn errors actually written (a drawn error is dropped if its path would be invalid). */
  applied: number;
}

/** One tally per failure mode. */
export type NoiseTallies = Record<NoiseKind, NoiseTally>;

/** A solution written with the failure modes, and what happened while writing it. */
export interface NoisySolution {
  solution: WrittenSolution;
  /** The errors written, in step order (empty for a correct solution). */
  events: NoiseEvent[];
  tallies: NoiseTallies;
}

/** Tallies with every count at zero. */
export function emptyTallies(): NoiseTallies {
  return Object.fromEntries(
    NOISE_KINDS.map((kind) => [kind, { opportunities: 0, drawn: 0, applied: 0 }]),
  ) as unknown as NoiseTallies;
}

/** Add `more` into `into` (for summing a corpus). */
export function addTallies(into: NoiseTallies, more: NoiseTallies): void {
  for (const kind of NOISE_KINDS) {
    into[kind].opportunities += more[kind].opportunities;
    into[kind].drawn += more[kind].drawn;
    into[kind].applied += more[kind].applied;
  }
}

/** The configured probability of each failure mode. */
export function noiseRate(params: WorldParams, kind: NoiseKind): number {
  switch (kind) {
    case "greedy_trigger":
      return params.greedyTriggerRate;
    case "sampling_trigger":
      return params.samplingTriggerRate;
    case "carry_slip":
      return params.carrySlipRate;
    case "borrow_slip":
      return params.borrowSlipRate;
    case "delayed_trap":
      return params.delayedTrapRate;
  }
}

/** Write a problem's solution with the failure modes drawn from `random`. */
export function noisySolution(
  problem: WorldProblem,
  params: WorldParams,
  random: Random,
): NoisySolution {
  const tallies = emptyTallies();
  const events: NoiseEvent[] = [];
  const lines: SolutionLine[] = [];
  let running = problem.start;
  // Accept a drawn error only if the rest of the solution stays valid and the answer changes.
  const keepsPathValid = (value: number | null, nextStep: number): value is number =>
    value !== null && finalAmount(value, problem.steps, nextStep, params.maxValue) !== null &&
    finalAmount(value, problem.steps, nextStep, params.maxValue) !== problem.answer;
  const tryError = (kind: NoiseKind, step: number, value: number | null): boolean => {
    tallies[kind].opportunities++;
    if (!(random.next() < noiseRate(params, kind))) return false;
    tallies[kind].drawn++;
    if (!keepsPathValid(value, step + 1)) return false;
    tallies[kind].applied++;
    events.push({ kind, step });
    return true;
  };

  let trapped = false;
  problem.steps.forEach((step, index) => {
    const connective = drawConnective(random);
    let operation = step.operation;
    const trigger = verbById(step.verb).trigger;
    const confused = confusedOperation(operation);
    // A trap set by the previous line's connective comes first; a trigger verb it confused needs
    // no second draw. With delayedTrapRate 0 it never fires and draws nothing.
    if (
      trapped && tryError("delayed_trap", index, applyOperation(confused, running, step.operand))
    ) {
      operation = confused;
    } else if (trigger !== undefined) {
      const kind = trigger === "greedy" ? "greedy_trigger" : "sampling_trigger";
      if (tryError(kind, index, applyOperation(confused, running, step.operand))) {
        operation = confused;
      }
    }
    let result = applyOperation(operation, running, step.operand)!;
    if (operation === "add" || operation === "multiply") {
      const slipped = droppedCarryResult(operation, running, step.operand);
      if (slipped !== null && tryError("carry_slip", index, slipped)) result = slipped;
    } else if (operation === "subtract") {
      const slipped = droppedBorrowResult(running, step.operand);
      if (slipped !== null && tryError("borrow_slip", index, slipped)) result = slipped;
    }
    lines.push({ connective, operation, left: running, operand: step.operand, result });
    running = result;
    trapped = params.delayedTrapRate > 0 && connective === TRAP_CONNECTIVE;
  });
  return { solution: { start: problem.start, lines, answer: running }, events, tallies };
}

/** The amount reached from `value` by applying steps `from..` correctly, or null if it leaves range. */
function finalAmount(
  value: number,
  steps: readonly WorldStep[],
  from: number,
  maxValue: number,
): number | null {
  if (value < 1 || value > maxValue) return null;
  let running = value;
  for (let i = from; i < steps.length; i++) {
    const next = applyOperation(steps[i].operation, running, steps[i].operand);
    if (next === null || next < 1 || next > maxValue) return null;
    running = next;
  }
  return running;
}
