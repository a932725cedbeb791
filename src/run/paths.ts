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
    /** Every correct trajectory (the SFT baseline's data, the paper's D_p), same format. */
    sftCorrect: join(data, "sft_correct.jsonl"),
    /** The negative SFT set, same format. */
    sftNegative: join(data, "sft_neg.jsonl"),
    /** The positive or negative set restricted to one cross-fitting half of the questions. */
    sftHalf: (side: "pos" | "neg", half: 0 | 1) =>
      join(data, `sft_${side}_${half === 0 ? "a" : "b"}.jsonl`),
    /** s_t at the other betas of the sweep: one row per (token, sample, beta). */
    ceBetaSweep: join(data, "ce_beta_sweep.parquet"),
    /** Preference pairs: JSONL of {chosen_id, rejected_id, prompt_ids, chosen_ids, rejected_ids}. */
    pairs: join(data, "pairs.jsonl"),
    /** Pairs held out of training (Figure 6 is measured on them), same format. */
    pairsHeldOut: join(data, "pairs_heldout.jsonl"),
    /** The held-out pairs with their rejected responses' critical tokens (`rejected_critical`). */
    heldOutEval: join(data, "heldout_eval.jsonl"),
    /** The pairs with cDPO's token weights 1 - s_t on the rejected side (`rejected_weights`). */
    pairsWeighted: join(data, "pairs_weighted.jsonl"),
    /** One point of a tuning search: its hyper-parameters and validation accuracy (JSON). */
    tuneResult: (stage: string) => join(data, "tuning", `${stage.replaceAll(":", "_")}.json`),
    /** The tuning record the run's hyper-parameters were chosen by (copied from the kit's data/). */
    tuning: join(data, "tuning.json"),
    /** A stage's work folder: kept across interruptions, emptied when its inputs change. */
    stageWork: (name: string) => join(dir, "stages", name, "work"),
    /** A stage's completion record. */
    stageRecord: (name: string) => join(dir, "stages", name, "done.json"),
    /** The training metrics (one JSON line per step) a training stage keeps in its work folder. */
    stageMetrics: (name: string) => join(dir, "stages", name, "work", "metrics.jsonl"),
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
