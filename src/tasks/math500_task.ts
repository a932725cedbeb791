/**
 * MATH-style data sets (MATH500's JSONL: `{"problem", "answer", ...}`; `question` is accepted for
 * `problem`) as a {@linkcode ReasoningTask} (real_task.ts): answers graded by math-verify in the
 * trainer's Python (trainer/cdpo_trainer/grading/math_answers.py), one trainer round trip per
 * graded batch.
 *
 * @module
 */
import type { Trainer } from "../trainer/client.ts";
import { realTask } from "./real_task.ts";
import { readProblemsJsonl, stringField } from "./jsonl_problems.ts";
import type { TaskPrompts } from "./prompts.ts";
import type { ReasoningTask, TaskProblem, TextGrader } from "./task.ts";

/** Reads a MATH-style JSONL file; a bad line names `file:line` and the field. */
export function readMathJsonl(path: string, prefix: string): Promise<TaskProblem[]> {
  return readProblemsJsonl(path, prefix, "MATH", (record) => ({
    question: "problem" in record
      ? stringField(record, "problem")
      : stringField(record, "question", " (or give 'problem')"),
    answer: stringField(record, "answer", " (the final answer in LaTeX, as in MATH500)"),
  }));
}

/** Items per grade_math request: bounds one message's size. */
const GRADE_BATCH = 2000;

/** MATH answers graded by math-verify through the trainer; `reference` is the `answer` field. */
export function mathTextGrader(trainer: () => Promise<Trainer>): TextGrader {
  return {
    name: "math500",
    async gradeTexts(items) {
      const out: { correct: boolean; extracted: string | null }[] = [];
      for (let start = 0; start < items.length; start += GRADE_BATCH) {
        const result = await (await trainer()).request("grade_math", {
          items: items.slice(start, start + GRADE_BATCH),
        });
        out.push(...result.grades as { correct: boolean; extracted: string | null }[]);
      }
      return out;
    },
  };
}

/** A MATH500 task with the run's prompts and a math-verify grader. */
export function math500Task(prompts: TaskPrompts, grader: TextGrader): ReasoningTask {
  return realTask("math500", prompts, grader);
}
