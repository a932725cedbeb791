/**
 * The embedded synthetic world: seeded multi-step arithmetic word problems with canonical
 * step-by-step solutions, a pretraining corpus with planted failure modes, and an exact
 * first-error oracle. The format and the failure modes are documented in docs/world.md.
 *
 * @example
 * ```ts
 * import { firstErrorInText, generateSplits, resolveWorldParams } from "./mod.ts";
 * const params = resolveWorldParams({ pretrainSize: 0, trainSize: 0, testSize: 1 });
 * const [problem] = generateSplits(params, 42).test;
 * if (firstErrorInText(problem, problem.solution).kind !== "correct") throw new Error("canonical");
 * ```
 * @module
 */

export {
  DEFAULT_WORLD_PARAMS,
  type Operation,
  OPERATIONS,
  resolveWorldParams,
  type WorldOptions,
  type WorldParams,
} from "./params.ts";
export type { WorldProblem, WorldStep } from "./problem.ts";
export { joinDigits, numberTokens, spellNumber, worldTokens } from "./text.ts";
export { applyOperation, confusedOperation } from "./arithmetic.ts";
export {
  CONNECTIVES,
  MEANING_WORDS,
  OPERATOR_SYMBOLS,
  type Trigger,
  type Verb,
  VERBS,
} from "./lexicon.ts";
export {
  confusedAnswer,
  generateProblem,
  generateSplits,
  SPLIT_NAMES,
  type WorldSplits,
} from "./generator.ts";
export {
  canonicalSolution,
  isConsistent,
  parseSolution,
  renderSolution,
  type SolutionLine,
  type WrittenSolution,
} from "./solution.ts";
export {
  NOISE_KINDS,
  type NoiseEvent,
  type NoiseKind,
  type NoiseTallies,
  type NoiseTally,
  type NoisySolution,
  noisySolution,
} from "./failure_modes.ts";
export {
  type FailureKind,
  firstError,
  firstErrorInText,
  firstErrorOfIds,
  type FirstErrorOptions,
  type NumberRole,
  type OracleVerdict,
  type SolutionSlot,
  solutionSlots,
} from "./oracle.ts";
export {
  type CorpusRecord,
  type CorpusStats,
  corpusStats,
  type EvaluationItem,
  evaluationPrompts,
  type NoiseReport,
  type PretrainingCorpus,
  pretrainingCorpus,
  toJsonl,
  writeJsonl,
} from "./corpus.ts";
export { worldVocabulary } from "./vocabulary.ts";
