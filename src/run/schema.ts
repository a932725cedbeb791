/**
 * Row types of the run's Parquet tables (stable column names, snake_case). Writers and readers
 * both use these, so a renamed column is a type error, not a silently empty figure.
 *
 * @module
 */

/** `data/trajectories.parquet`: one sampled trajectory. */
export interface TrajectoryRow {
  /** `<split>/<problem_id>/<sample_index>`, unique in the run. */
  trajectory_id: string;
  split: "train" | "test";
  problem_id: string;
  sample_index: number;
  /** The response as text, without the end-of-sequence token: decoded by the tokenizer (the
   * world's words joined by single spaces). */
  response: string;
  n_tokens: number;
  /** Extracted final answer as text; null when none. */
  answer: string | null;
  correct: boolean;
  /** Ground-truth first-error position (response token index); null when correct or unknown. */
  first_error: number | null;
  /** The oracle's verdict: "correct", a failure kind (e.g. "confusion", "arithmetic"), or "unknown". */
  verdict: string;
  stop_reason: string;
}

/** `data/rollouts.parquet`: correctness of continuations from one prefix of an incorrect trajectory. */
export interface RolloutRow {
  trajectory_id: string;
  /** Response position i: continuations start after tokens 0..i (inclusive). -1 = from the bare prompt. */
  position: number;
  token: string;
  /** Fraction of the `samples` continuations that end correct. */
  correctness: number;
  samples: number;
  /** The rollout rule's critical token of this trajectory (method.md section 2). */
  is_critical: boolean;
  /** The ground-truth first error of this trajectory. */
  is_first_error: boolean;
}

/** `data/passk.parquet` (and tables/passk.csv): Figure 1's curves, in percent. */
export interface PassKRow {
  k: number;
  with_critical: number;
  without_critical: number;
}

/**
 * `data/token_scores.parquet`: one token of a scored incorrect trajectory. In-sample scores come
 * from the positive and negative models trained on every training question (the paper's way);
 * out-of-sample scores (`_out`) from the models trained on the other half of the questions, which
 * never saw this trajectory's question (null when the run does not cross-fit).
 */
export interface TokenScoreRow {
  trajectory_id: string;
  position: number;
  token: string;
  /** Contrastive estimation score s_t (low = likely critical), in sample. */
  s_t: number;
  lp_pos: number;
  lp_neg: number;
  lp_policy: number;
  /** The same, out of sample. */
  s_t_out: number | null;
  lp_pos_out: number | null;
  lp_neg_out: number | null;
  is_first_error: boolean;
  /** Whether this trajectory is the rejected side of a preference pair (its weights are 1 - s_t). */
  rejected_in_pair: boolean;
}

/** `data/ce_beta_sweep.parquet`: s_t of one token at another beta, in or out of sample. */
export interface BetaSweepRow {
  trajectory_id: string;
  position: number;
  sample: "in" | "out";
  beta: number;
  s_t: number;
}

/**
 * `data/metrics.parquet`: one training step of one model. The `eval_` columns are measured on a
 * fixed held-out set of pairs every few steps (null on the other steps; step 0 is before training).
 */
export interface MetricRow {
  /** sft_pos, sft_neg, sft, dpo, dpo_sft, tokendpo, rpo, cdpo. */
  method: string;
  seed: number;
  step: number;
  loss: number;
  reward_margin: number | null;
  reward_accuracy: number | null;
  /** Policy's summed log-prob of chosen responses (batch mean). */
  logp_chosen: number | null;
  logp_rejected: number | null;
  grad_norm: number;
  lr: number;
  /** Mean summed log-prob of the held-out pairs' chosen responses. */
  eval_logp_chosen: number | null;
  /** Of their rejected responses. */
  eval_logp_rejected: number | null;
  /** Of the rejected responses' critical tokens alone (their CE critical token). */
  eval_logp_critical: number | null;
}

/**
 * A metrics.parquet row from one trainer metric record (a line of the trainer's metrics.jsonl
 * or a streamed `metric` event); fields a method does not log are null.
 */
export function metricRow(method: string, seed: number, m: Record<string, unknown>): MetricRow {
  const num = (k: string) => (typeof m[k] === "number" ? m[k] as number : null);
  return {
    method,
    seed,
    step: Number(m.step),
    loss: num("loss") ?? NaN,
    reward_margin: num("reward_margin"),
    reward_accuracy: num("reward_accuracy"),
    logp_chosen: num("logp_chosen"),
    logp_rejected: num("logp_rejected"),
    grad_norm: num("grad_norm") ?? NaN,
    lr: num("lr") ?? NaN,
    eval_logp_chosen: num("eval_logp_chosen"),
    eval_logp_rejected: num("eval_logp_rejected"),
    eval_logp_critical: num("eval_logp_critical"),
  };
}

/** `data/evaluation.parquet`: greedy correctness of one model on one test problem. */
export interface EvaluationRow {
  /** base, sft, dpo, dpo_sft, tokendpo, rpo, cdpo. */
  method: string;
  seed: number;
  problem_id: string;
  correct: boolean;
  answer: string | null;
  /** The greedy response as decoded text (end-of-sequence removed); absent in runs made before
   * the kit stored responses. */
  response?: string;
}

/** `data/fig5.parquet`: one bar of Figure 5. */
export interface Fig5Row {
  /** sampled | ce_replaced | cdpo */
  condition: string;
  /** Accuracy in percent. */
  accuracy: number;
  n: number;
}

/** `data/tuning.json`: the search that chose the run's hyper-parameters (`deno task tune`). */
export interface TuningRecord {
  preset: string;
  validationProblems: number;
  seed: number;
  steps: number;
  methods: Record<string, {
    chosen: Record<string, number | string>;
    /** Validation accuracy of the chosen point, percent. */
    accuracy: number;
    points: {
      hyper: Record<string, number | string>;
      correct: number;
      n: number;
      accuracy: number;
    }[];
  }>;
}

/** Detectors of tables/detectors.csv besides the beta sweep's (`ce_beta_<b>`), in table order. */
export const DETECTORS = [
  "ce_argmin",
  "ce_log_ratio",
  "ce_pos_only",
  "rollout",
  "random",
  "min_policy_prob",
] as const;

/** Every column of data/token_scores.parquet (a table with no rows is written with these). */
export const TOKEN_SCORE_COLUMNS = [
  "trajectory_id",
  "position",
  "token",
  "s_t",
  "lp_pos",
  "lp_neg",
  "lp_policy",
  "s_t_out",
  "lp_pos_out",
  "lp_neg_out",
  "is_first_error",
  "rejected_in_pair",
] as const satisfies readonly (keyof TokenScoreRow)[];

/** Every column of data/metrics.parquet (a run that trains nothing writes it with no rows). */
export const METRIC_COLUMNS = [
  "method",
  "seed",
  "step",
  "loss",
  "reward_margin",
  "reward_accuracy",
  "logp_chosen",
  "logp_rejected",
  "grad_norm",
  "lr",
  "eval_logp_chosen",
  "eval_logp_rejected",
  "eval_logp_critical",
] as const satisfies readonly (keyof MetricRow)[];
