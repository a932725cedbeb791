/**
 * Problem sets and grading: the embedded synthetic world, GSM8K and MATH500 (local JSONL),
 * their prompts for real checkpoints, and answer extraction and grading.
 *
 * @module
 */

export * from "./world/mod.ts";
export {
  extractGsm8kAnswer,
  extractWorldAnswer,
  gradeGsm8k,
  gradeWorld,
  gsm8kReferenceAnswer,
} from "./grading.ts";
export { gsm8kTask, gsm8kTextGrader, readGsm8kJsonl } from "./gsm8k_task.ts";
export { math500Task, mathTextGrader, readMathJsonl } from "./math500_task.ts";
export {
  chatTurn,
  type FewShotExample,
  fewShotPrompt,
  GSM8K_PROMPT,
  hasChatTemplate,
  MATH_PROMPT,
  type PromptFormat,
  type PromptStyle,
  TaskPrompts,
} from "./prompts.ts";
export type { GradedResponse, GradeItem, ReasoningTask, TaskProblem, TextGrader } from "./task.ts";
