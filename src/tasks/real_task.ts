/**
 * What GSM8K and MATH500 share as {@linkcode ReasoningTask}s: the run's prompts, responses
 * decoded to text (cut at the first stop string for grading, stored whole), graded in one batch
 * by the task's {@linkcode TextGrader} against each problem's reference answer, and no first-error
 * oracle (real data has none).
 *
 * @module
 */
import type { LanguageModel } from "../lm/types.ts";
import type { TaskPrompts } from "./prompts.ts";
import type { GradedResponse, GradeItem, ReasoningTask, TextGrader } from "./task.ts";

/** The response text up to the first stop string (the stop string is not part of the answer). */
export function responseBody(text: string, stops: readonly string[]): string {
  let end = text.length;
  for (const s of stops) {
    const at = text.indexOf(s);
    if (at >= 0 && at < end) end = at;
  }
  return text.slice(0, end);
}

/** Decoded text and per-token display strings of a response. */
export function decodeResponse(
  lm: LanguageModel,
  ids: readonly number[],
): { text: string; tokens: string[] } {
  return { text: lm.detokenize(ids), tokens: ids.map((id) => lm.detokenize([id])) };
}

/** A real data set's task: `grader` compares a response with `problem.answer`. */
export function realTask(name: string, prompts: TaskPrompts, grader: TextGrader): ReasoningTask {
  return {
    name,
    hasOracle: false,
    prompt: prompts.description,
    stopStrings: prompts.stopStrings,
    promptIds: (lm, problem) => prompts.ids(lm, problem),
    async grade(lm, items: readonly GradeItem[]): Promise<GradedResponse[]> {
      const decoded = items.map((item) => decodeResponse(lm, item.responseIds));
      const grades = items.length === 0 ? [] : await grader.gradeTexts(items.map((item, i) => ({
        response: responseBody(decoded[i].text, prompts.stopStrings),
        reference: String(item.problem.answer),
      })));
      return grades.map((g, i) => ({
        answer: g.extracted,
        correct: g.correct,
        firstError: null,
        verdict: "unknown",
        text: decoded[i].text,
        tokens: decoded[i].tokens,
      }));
    },
  };
}
