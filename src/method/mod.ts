/**
 * Every algorithm of the paper, as functions of (model, data, options) with typed results:
 * sampling and grading, the positive/negative fine-tuning sets and the preference pairs, the
 * rollout search and its critical-token rule, contrastive scores, replacing a token and
 * continuing (Figure 5), the detectors of critical tokens, pass@k. Stages and notebooks call
 * these; none of them knows about run directories.
 *
 * @module
 */
export {
  correctness,
  type DecodeSettings,
  stripEos,
  toTrajectories,
  type Trajectory,
  trajectoryIds,
} from "./trajectory.ts";
export { greedyGrades, sampleGraded, type SampleGradedOptions } from "./sample.ts";
export {
  type GradedTrajectory,
  type Group,
  groupByAnswer,
  negativeGroups,
  type Selection,
  selectTrajectories,
} from "./selection.ts";
export { LATER_CORRECTNESS_BELOW, rolloutCriticalToken } from "./rollout_rule.ts";
export { keepNothing, type KeepPiece } from "./keep_piece.ts";
export {
  passKCurves,
  rolloutCandidates,
  type RolloutOptions,
  type RolloutResult,
  rolloutTrajectory,
  rolloutWork,
} from "./rollouts.ts";
export {
  ALTERNATIVE_TEMPERATURE,
  correctPerItem,
  replaceAndContinue,
  type ReplacedCompletion,
  type Replacement,
  type ReplaceOptions,
} from "./replacement.ts";
export {
  argmin,
  type ContrastiveModels,
  contrastiveScores,
  crossFitHalves,
  scoredTrajectories,
  scoreTokens,
  tokenScoreRows,
  type TokenScores,
} from "./contrastive.ts";
export {
  computeDetectors,
  type DetectorCase,
  type DetectorResults,
  type DetectorRow,
  hitRates,
  rankAscending,
  rolloutDrops,
} from "./detectors.ts";
export { meanPassAtK, passAtK, powersOfTwoUpTo } from "./pass_at_k.ts";
