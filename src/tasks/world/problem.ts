/**
 * The shape of one world problem: the question, its steps with the values they produce, the
 * answer and one canonical solution.
 *
 * @module
 */

import type { Operation } from "./params.ts";

/** One step of a problem: the operation a verb applies to the running amount. */
export interface WorldStep {
  operation: Operation;
  /** The number the question gives for this step (the right side of the equation). */
  operand: number;
  /** Id of the verb the question uses (see `VERBS` in lexicon.ts). */
  verb: string;
  /** The running amount before the step. */
  before: number;
  /** The running amount after the step. */
  after: number;
}

/** A generated word problem. All text follows the world's text contract (see text.ts). */
export interface WorldProblem {
  /** Stable id, unique across the splits of one seed (for example `test-17`). */
  id: string;
  /** The question text, which is also the prompt. */
  question: string;
  /** The amount the question starts with. */
  start: number;
  steps: WorldStep[];
  /** The amount after the last step. */
  answer: number;
  /** One canonical step-by-step solution (connectives drawn with their probabilities). */
  solution: string;
}
