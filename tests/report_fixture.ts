/**
 * A small hand-made run directory for the report tests: every number the tests expect is
 * derived by hand from these rows (the derivations sit beside the assertions).
 *
 * @module
 */
import { join } from "node:path";
import pl from "nodejs-polars";
import type {
  EvaluationRow,
  Fig5Row,
  MetricRow,
  PassKRow,
  RolloutRow,
  TokenScoreRow,
  TrajectoryRow,
} from "../src/run/schema.ts";
import type { RunData } from "../src/run/data.ts";

const bits = (s: string) => [...s].map((c) => c === "1");

/** Greedy outcomes per (method, seed) over problems p0..p4. */
const OUTCOMES: [string, number, string][] = [
  ["base", 0, "10110"],
  ["dpo", 0, "10010"],
  ["dpo", 1, "01001"],
  ["rpo", 0, "11110"],
  ["rpo", 1, "11101"],
  ["cdpo", 0, "11110"],
  ["cdpo", 1, "11101"],
  ["mystery", 0, "00000"], // not a Table 1 method: ignored
];

export const EVALUATION: EvaluationRow[] = OUTCOMES.flatMap(([method, seed, s]) =>
  bits(s).map((correct, i) => ({
    method,
    seed,
    problem_id: `p${i}`,
    correct,
    answer: correct ? "7" : null,
  }))
);

function trajectory(
  id: string,
  firstError: number | null,
  nTokens: number,
  kind = "arithmetic",
): TrajectoryRow {
  const [split, problem_id, sample] = id.split("/");
  return {
    trajectory_id: id,
    split: split as "train",
    problem_id,
    sample_index: Number(sample),
    response: Array.from({ length: nTokens }, (_, i) => `w${i}`).join(" "),
    n_tokens: nTokens,
    answer: "3",
    correct: false,
    first_error: firstError,
    verdict: firstError === null ? "unknown" : kind,
    stop_reason: "eos",
  };
}

// A: first error 2; B: first error 1 (both arithmetic); C: first error 0 (a confusion); D and E:
// first error unknown (excluded); F: it stopped early, its first error is the end-of-sequence
// position 2 of 2 tokens (counted apart).
export const TRAJECTORIES: TrajectoryRow[] = [
  trajectory("train/p0/0", 2, 5),
  trajectory("train/p1/0", 1, 4),
  trajectory("train/p2/0", 0, 6, "confusion"),
  trajectory("train/p3/0", null, 3),
  trajectory("train/p4/0", null, 2),
  trajectory("train/p5/0", 2, 2, "early_end"),
];

function scores(
  id: string,
  firstError: number | null,
  s: number[],
  lp: number[],
  sOut: number[] = s,
): TokenScoreRow[] {
  return s.map((s_t, position) => ({
    trajectory_id: id,
    position,
    token: position === 0 ? '<&"x">' : `w${position}`, // one token that needs HTML escaping
    s_t,
    lp_pos: Math.log(0.5),
    lp_neg: Math.log(0.25),
    lp_policy: lp[position],
    s_t_out: sOut[position],
    lp_pos_out: Math.log(0.5),
    lp_neg_out: Math.log(0.25),
    is_first_error: position === firstError,
    rejected_in_pair: true,
  }));
}

// Out of sample, C's lowest s_t moves to its first error; the rest is as in sample.
export const TOKEN_SCORES: TokenScoreRow[] = [
  ...scores("train/p0/0", 2, [0.9, 0.8, 0.01, 0.5, 0.6], [-0.1, -3.0, -0.5, -0.2, -0.3]),
  ...scores("train/p1/0", 1, [0.2, 0.3, 0.05, 0.9], [-2, -0.1, -0.2, -0.3]),
  ...scores(
    "train/p2/0",
    0,
    [0.7, 0.6, 0.5, 0.4, 0.3, 0.2],
    [-5, -1, -1, -1, -1, -1],
    [0.1, 0.6, 0.5, 0.4, 0.3, 0.2],
  ),
  ...scores("train/p3/0", null, [0.001, 0.5, 0.5], [-9, -1, -1]),
  ...scores("train/p5/0", 2, [0.5, 0.4], [-1, -1]),
];

function rollouts(
  id: string,
  firstError: number | null,
  prompt: number,
  c: number[],
  critical: number | null,
): RolloutRow[] {
  return [prompt, ...c].map((correctness, j) => ({
    trajectory_id: id,
    position: j - 1,
    token: j === 0 ? "" : `w${j - 1}`,
    correctness,
    samples: 20,
    is_critical: j - 1 === critical,
    is_first_error: j - 1 === firstError,
  }));
}

// Critical tokens follow the rollout rule: A -> 2 (first zero with a clean suffix); B -> 3 (the
// run of drops from 1 ends at 0.1 >= 5%; the run from 3 lasts).
export const ROLLOUTS: RolloutRow[] = [
  ...rollouts("train/p0/0", 2, 0.5, [0.6, 0.5, 0, 0, 0], 2),
  ...rollouts("train/p1/0", 1, 0.4, [0.4, 0, 0.1, 0], 3),
  ...rollouts("train/p4/0", null, 0.3, [0.2, 0], 1),
];

export const PASSK: PassKRow[] = [
  { k: 4, with_critical: 0, without_critical: 62.5 },
  { k: 1, with_critical: 0, without_critical: 25 },
  { k: 2, with_critical: 0, without_critical: 43.75 },
];

export const FIG5: Fig5Row[] = [
  { condition: "cdpo", accuracy: 80, n: 10 },
  { condition: "sampled", accuracy: 40, n: 10 },
  { condition: "ce_replaced", accuracy: 55, n: 10 },
];

function curve(
  method: string,
  seed: number,
  chosen: (number | null)[],
  rejected: (number | null)[],
): MetricRow[] {
  return chosen.map((logp_chosen, step) => ({
    method,
    seed,
    step,
    loss: 0.7 - 0.1 * step,
    reward_margin: null,
    reward_accuracy: null,
    logp_chosen,
    logp_rejected: rejected[step],
    grad_norm: 1,
    lr: 1e-4,
    eval_logp_chosen: null,
    eval_logp_rejected: null,
    eval_logp_critical: null,
  }));
}

export const METRICS: MetricRow[] = [
  ...curve("sft", 0, [null, null, null], [null, null, null]),
  ...curve("dpo", 1, [0, 0, 0], [0, 0, 0]), // seed 1: Figure 6 must use seed 0
  ...curve("dpo", 0, [-10, -11, -12], [-12, -14, -16]),
  ...curve("rpo", 1, [-10, -9, -8], [-12, -12.5, -13]), // rpo has only seed 1
  ...curve("cdpo", 0, [-10, -9.5, -9], [-12, -15, -18]),
];

export const MANIFEST = {
  preset: "smoke",
  config: { seed: 3, training: { methods: ["dpo", "rpo", "cdpo"] } },
  stages: [
    { name: "sample", outcome: "ran", seconds: 1.25, key: "k1" },
    { name: "train", outcome: "cached", seconds: 10, key: "k2" },
  ],
};

/** The synthetic run as read back (without a manifest), for tests that skip the files. */
export const FIXTURE_DATA: RunData = {
  dir: "run",
  trajectories: TRAJECTORIES,
  rollouts: ROLLOUTS,
  passk: PASSK,
  tokenScores: TOKEN_SCORES,
  ceBetaSweep: null,
  metrics: METRICS,
  evaluation: EVALUATION,
  fig5: FIG5,
  tuning: null,
  manifest: null,
};

/** Which parts of the synthetic run to write. */
export interface FixtureParts {
  trajectories?: boolean;
  rollouts?: boolean;
  passk?: boolean;
  tokenScores?: boolean;
  metrics?: boolean;
  evaluation?: boolean;
  fig5?: boolean;
  manifest?: boolean;
}

/** Writes the synthetic run into `dir` (all parts unless some are switched off). */
export function writeFixtureRun(dir: string, parts: FixtureParts = {}): void {
  const data = join(dir, "data");
  Deno.mkdirSync(data, { recursive: true });
  const on = (k: keyof FixtureParts) => parts[k] !== false;
  // Row objects, as the pipeline writes them (polars infers the types; nulls stay null).
  const write = (name: string, rows: object[]) =>
    pl.DataFrame(rows as Record<string, unknown>[]).writeParquet(join(data, name));
  if (on("trajectories")) write("trajectories.parquet", TRAJECTORIES);
  if (on("rollouts")) write("rollouts.parquet", ROLLOUTS);
  if (on("passk")) write("passk.parquet", PASSK);
  if (on("tokenScores")) write("token_scores.parquet", TOKEN_SCORES);
  if (on("metrics")) write("metrics.parquet", METRICS);
  if (on("evaluation")) write("evaluation.parquet", EVALUATION);
  if (on("fig5")) write("fig5.parquet", FIG5);
  if (on("manifest")) {
    Deno.writeTextFileSync(join(dir, "manifest.json"), JSON.stringify(MANIFEST, null, 2));
  }
}
