/**
 * A reasoning task as the pipeline sees it: problems with numeric answers, how a problem
 * becomes prompt tokens, and how a response is graded (and, where the task knows it, where its
 * first error is). The embedded world and GSM8K-style data sets both fit.
 *
 * @module
 */
import type { LanguageModel } from "../lm/types.ts";

/** A problem: an id unique in the run, the question text and the numeric answer. */
export interface TaskProblem {
  id: string;
  question: string;
  answer: number;
}

/** A graded response. */
export interface GradedResponse {
  /** The extracted final answer as text; null when none. */
  answer: string | null;
  correct: boolean;
  /** Ground-truth first-error position; null when correct or not known (real data sets). */
  firstError: number | null;
  /** "correct", a failure kind, or "unknown". */
  verdict: string;
  /** One display string per response token. */
  tokens: string[];
}

/** What the pipeline needs of a task. */
export interface ReasoningTask<P extends TaskProblem = TaskProblem> {
  readonly name: string;
  /** Whether `grade` knows the first error (then detectors can be scored against it). */
  readonly hasOracle: boolean;
  /** Sampling stops once one of these appears in the new text (few-shot prompts need it). */
  readonly stopStrings: readonly string[];
  promptIds(lm: LanguageModel, problem: P): number[];
  /** Grades response token ids (end-of-sequence already removed). */
  grade(
    lm: LanguageModel,
    problem: P,
    responseIds: readonly number[],
    truncated: boolean,
  ): GradedResponse;
}
