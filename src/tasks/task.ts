/**
 * A reasoning task as the pipeline sees it: problems with reference answers, how a problem
 * becomes prompt tokens, and how responses are graded (and, where the task knows it, where their
 * first error is). The embedded world, GSM8K and MATH500 fit.
 *
 * @module
 */
import type { LanguageModel } from "../lm/types.ts";

/** A problem: an id unique in the run, the question text and the reference answer. */
export interface TaskProblem {
  id: string;
  question: string;
  /** The world's integer answer, or the data set's answer text (GSM8K: after `####`; MATH: LaTeX). */
  answer: number | string;
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
  /** The response as stored: decoded text (world: its words joined by spaces). */
  text: string;
  /** One display string per response token. */
  tokens: string[];
}

/** One response to grade: its problem and token ids (end-of-sequence already removed). */
export interface GradeItem<P extends TaskProblem = TaskProblem> {
  problem: P;
  responseIds: readonly number[];
  /** Whether generation hit its length limit. */
  truncated: boolean;
}

/** What the pipeline needs of a task. */
export interface ReasoningTask<P extends TaskProblem = TaskProblem> {
  readonly name: string;
  /** Whether `grade` knows the first error (then detectors can be scored against it). */
  readonly hasOracle: boolean;
  /** What the prompt is ("world", "8-shot", "chat template"): a stage input, shown in the report. */
  readonly prompt: string;
  /** Sampling stops once one of these appears in the new text (few-shot prompts need it). */
  readonly stopStrings: readonly string[];
  promptIds(lm: LanguageModel, problem: P): number[];
  /** Grades a batch of responses, in order (one round trip where grading runs in the trainer). */
  grade(lm: LanguageModel, items: readonly GradeItem<P>[]): Promise<GradedResponse[]>;
}

/** A task's answer check on plain text, as `deno task grade` applies it. */
export interface TextGrader {
  /** Task name as given to `--task`. */
  readonly name: string;
  /** `reference` is the data set's own answer field (GSM8K: the whole "... #### N" text). */
  gradeTexts(
    items: readonly { response: string; reference: string }[],
  ): Promise<{ correct: boolean; extracted: string | null }[]>;
}
