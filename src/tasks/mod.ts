/**
 * Problem sets and grading: the embedded synthetic world and answer extraction for the world
 * format and the GSM8K convention.
 *
 * @module
 */

export * from "./world/mod.ts";
export {
  answersMatch,
  type AnswerTolerance,
  extractGsm8kAnswer,
  extractWorldAnswer,
  gradeGsm8k,
  gradeWorld,
  gsm8kReferenceAnswer,
} from "./grading.ts";
