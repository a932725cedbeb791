/**
 * What the numbered notebooks call: open a run (or make the preset's), redo a step of the method
 * live on a few examples (rollouts, contrastive scores, preference training), and show the run's
 * stored tables and figures, beside the paper's numbers. Each function returns a value that
 * renders itself in a notebook.
 *
 * @module
 */
export { NotebookRun, openRun, readNotebookRun } from "./notebook_run.ts";
export {
  type LiveRolloutOptions,
  liveRollouts,
  type RolloutExample,
  RolloutExamples,
} from "./live_rollouts.ts";
export {
  type LiveScoreOptions,
  liveTokenScores,
  ScoredTrajectories,
  type ScoredTrajectory,
} from "./live_scores.ts";
export { liveChart, LiveTraining, type LiveTrainingOptions, trainLive } from "./live_training.ts";
export { scoresByRole, stByRole, stByRoleFigure, TOKEN_ROLES } from "./st_by_role.ts";
export {
  detectorView,
  environmentView,
  MissingView,
  passkView,
  runFigure,
  table1View,
} from "./run_views.ts";
export { figure1VsPaper, figure6VsPaper, table1VsPaper } from "./paper_comparison.ts";
