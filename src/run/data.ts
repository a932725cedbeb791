/**
 * The stored data of a run, read back from its Parquet tables (and manifest.json when present).
 * Every table is optional: a run that stopped early, or a preset that skips a stage, simply
 * lacks some, and the report says which.
 *
 * @module
 */
import { existsSync } from "node:fs";
import { readParquetRows } from "../io/parquet.ts";
import { runPaths } from "./paths.ts";
import type {
  BetaSweepRow,
  EvaluationRow,
  Fig5Row,
  MetricRow,
  PassKRow,
  RolloutRow,
  TokenScoreRow,
  TrajectoryRow,
  TuningRecord,
} from "./schema.ts";

/** The directory is not a run directory (it has no data/ folder). */
export class NotARunDirectoryError extends Error {
  constructor(readonly dir: string) {
    super(
      `Cannot build the report: ${dir} is not a run directory (it has no data/ folder); ` +
        "pass the folder `deno task reproduce` wrote (e.g. runs/<name>)",
    );
    this.name = "NotARunDirectoryError";
  }
}

/** Everything the report is built from; a field is null when its file is absent. */
export interface RunData {
  dir: string;
  trajectories: TrajectoryRow[] | null;
  rollouts: RolloutRow[] | null;
  passk: PassKRow[] | null;
  tokenScores: TokenScoreRow[] | null;
  ceBetaSweep: BetaSweepRow[] | null;
  metrics: MetricRow[] | null;
  evaluation: EvaluationRow[] | null;
  fig5: Fig5Row[] | null;
  /** data/tuning.json: the search that chose the hyper-parameters, when the run has one. */
  tuning: TuningRecord | null;
  /** manifest.json parsed, or null when absent or not valid JSON. */
  manifest: Record<string, unknown> | null;
}

/** The data tables of a run and the columns each must have. */
export const TABLE_COLUMNS = {
  trajectories: ["trajectory_id", "split", "problem_id", "first_error", "correct"],
  rollouts: ["trajectory_id", "position", "token", "correctness", "is_critical"],
  passk: ["k", "with_critical", "without_critical"],
  tokenScores: ["trajectory_id", "position", "token", "s_t", "lp_pos", "lp_neg", "lp_policy"],
  ceBetaSweep: ["trajectory_id", "position", "sample", "beta", "s_t"],
  metrics: ["method", "seed", "step", "logp_chosen", "logp_rejected"],
  evaluation: ["method", "seed", "problem_id", "correct"],
  fig5: ["condition", "accuracy", "n"],
} as const;

/** The name of one data table of {@linkcode RunData}. */
export type TableName = keyof typeof TABLE_COLUMNS;

/** Reads every data table present in `dir/data` (throws when `dir` is not a run directory). */
export function readRunData(dir: string): RunData {
  const paths = runPaths(dir);
  if (!existsSync(paths.data)) throw new NotARunDirectoryError(dir);
  const read = <T>(name: TableName, path: string): T[] | null =>
    existsSync(path) ? readParquetRows<T>(path, TABLE_COLUMNS[name]) : null;
  return {
    dir,
    trajectories: read<TrajectoryRow>("trajectories", paths.trajectories),
    rollouts: read<RolloutRow>("rollouts", paths.rollouts),
    passk: read<PassKRow>("passk", paths.passk),
    tokenScores: read<TokenScoreRow>("tokenScores", paths.tokenScores),
    ceBetaSweep: read<BetaSweepRow>("ceBetaSweep", paths.ceBetaSweep),
    metrics: read<MetricRow>("metrics", paths.metrics),
    evaluation: read<EvaluationRow>("evaluation", paths.evaluation),
    fig5: read<Fig5Row>("fig5", paths.fig5),
    tuning: readJson(paths.tuning) as TuningRecord | null,
    manifest: readJson(paths.manifest),
  };
}

function readJson(path: string): Record<string, unknown> | null {
  if (!existsSync(path)) return null;
  try {
    const value = JSON.parse(Deno.readTextFileSync(path));
    return value && typeof value === "object" && !Array.isArray(value) ? value : null;
  } catch {
    // A torn or hand-edited file only costs the report its summary of it.
    return null;
  }
}
