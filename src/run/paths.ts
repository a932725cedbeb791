/**
 * The layout of a run directory, in one place. Everything a stage writes lives here; `figures`
 * rebuilds `tables/`, `figures/` and `report.md` from `data/` alone.
 *
 * @module
 */
import { join } from "node:path";

/** Paths inside the run directory `dir`. */
export function runPaths(dir: string) {
  const data = join(dir, "data");
  const tables = join(dir, "tables");
  const figures = join(dir, "figures");
  const models = join(dir, "models");
  return {
    dir,
    manifest: join(dir, "manifest.json"),
    report: join(dir, "report.md"),
    stages: join(dir, "stages"),
    stage: (name: string) => join(dir, "stages", name),
    models,
    model: (name: string) => join(models, name),
    data,
    /** One row per sampled trajectory (train split sampling and test split sampling). */
    trajectories: join(data, "trajectories.parquet"),
    /** One row per (rollout trajectory, response position): the fraction of correct continuations. */
    rollouts: join(data, "rollouts.parquet"),
    /** One row per k: mean pass@k with the critical token kept and replaced. */
    passk: join(data, "passk.parquet"),
    /** One row per token of every scored incorrect trajectory: s_t and the models' log-probs. */
    tokenScores: join(data, "token_scores.parquet"),
    /** One row per training step of every trained model. */
    metrics: join(data, "metrics.parquet"),
    /** One row per (method, seed, test problem): greedy correctness. */
    evaluation: join(data, "evaluation.parquet"),
    /** One row per Figure 5 bar. */
    fig5: join(data, "fig5.parquet"),
    /** The positive SFT set: JSONL of {id, prompt_ids, response_ids}. */
    sftPositive: join(data, "sft_pos.jsonl"),
    /** The negative SFT set, same format. */
    sftNegative: join(data, "sft_neg.jsonl"),
    /** Preference pairs: JSONL of {chosen_id, rejected_id, prompt_ids, chosen_ids, rejected_ids}. */
    pairs: join(data, "pairs.jsonl"),
    /** The pairs with cDPO's token weights 1 - s_t on the rejected side (`rejected_weights`). */
    pairsWeighted: join(data, "pairs_weighted.jsonl"),
    /** A stage's work folder: kept across interruptions, emptied when its inputs change. */
    stageWork: (name: string) => join(dir, "stages", name, "work"),
    /** A stage's completion record. */
    stageRecord: (name: string) => join(dir, "stages", name, "done.json"),
    tables,
    table1: join(tables, "table1.csv"),
    detectors: join(tables, "detectors.csv"),
    passkCsv: join(tables, "passk.csv"),
    figures,
    figure: (name: string, ext: "html" | "png" | "svg") => join(figures, `${name}.${ext}`),
  };
}

/** The paths of one run directory. */
export type RunPaths = ReturnType<typeof runPaths>;
