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

/** `data/token_scores.parquet`: one token of a scored incorrect trajectory. */
export interface TokenScoreRow {
  trajectory_id: string;
  position: number;
  token: string;
  /** Contrastive estimation score s_t (low = likely critical). */
  s_t: number;
  lp_pos: number;
  lp_neg: number;
  lp_policy: number;
  is_first_error: boolean;
  /** Whether this trajectory is the rejected side of a preference pair (its weights are 1 - s_t). */
  rejected_in_pair: boolean;
}

/** `data/metrics.parquet`: one training step of one model. */
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

/** Methods of Table 1, in the order they are shown. */
export const TABLE1_METHODS = ["base", "sft", "dpo", "dpo_sft", "tokendpo", "rpo", "cdpo"] as const;

/** Detectors of tables/detectors.csv, in the order they are shown. */
export const DETECTORS = ["ce_argmin", "rollout", "random", "min_policy_prob"] as const;
