/**
 * tables/detectors.csv: how well each detector of critical tokens finds the world's
 * ground-truth first error, as top-1 / within-1 / top-3 hit rates over trajectories and as an
 * AUROC of its per-token suspicion score over pooled tokens.
 *
 * Detectors (most suspicious first):
 * - ce_argmin: ascending s_t (contrastive estimation);
 * - rollout: the rollout rule's critical token, then the others by descending correctness drop;
 * - random: a seeded random order (the chance baseline);
 * - min_policy_prob: ascending log-prob under the policy (the "surprising token" baseline).
 *
 * @module
 */
import { type DetectorCase, hitRates, rankAscending } from "../critical/detectors.ts";
import { auroc } from "../eval/auroc.ts";
import {
  DETECTORS,
  type RolloutRow,
  type TokenScoreRow,
  type TrajectoryRow,
} from "../pipeline/schema.ts";
import { Random } from "../random.ts";
import { fixed, type TextTable } from "./table_text.ts";

/** Columns of tables/detectors.csv, in order. */
export const DETECTOR_COLUMNS = ["detector", "top1", "within1", "top3", "auroc", "n"] as const;

/** What each column means (shown under the table in report.md). */
export const DETECTOR_LEGEND =
  "top1: fraction of incorrect trajectories whose most suspicious token is the ground-truth " +
  "first error; within1: fraction whose most suspicious token is at most one token from it; top3: the first error is among " +
  "the three most suspicious tokens; auroc: area under the ROC curve of the detector's " +
  "per-token suspicion score (−s_t, random, −log-prob under the policy, correctness drop) " +
  "against the first-error label, pooled over the tokens of those trajectories; n: number of " +
  "trajectories. ce_argmin, random and min_policy_prob are scored on the trajectories with " +
  "contrastive scores, rollout on the trajectories searched by rollouts.";

/** Seed of the random detector (fixed: the table is rebuilt byte for byte). */
export const RANDOM_DETECTOR_SEED = 7411;

/** One detector's row. */
export interface DetectorRow {
  detector: (typeof DETECTORS)[number];
  top1: number;
  within1: number;
  top3: number;
  auroc: number | null;
  n: number;
}

/** The detector table and the agreement of s_t with the rollout labels. */
export interface DetectorResults {
  rows: DetectorRow[];
  /**
   * AUROC of −s_t against the rollout rule's critical token (is_critical), pooled over the
   * tokens of rollout trajectories that also have contrastive scores; null without both classes.
   */
  ceVsRolloutAuroc: number | null;
  /** Tokens behind {@linkcode ceVsRolloutAuroc}. */
  ceVsRolloutTokens: number;
}

/** One trajectory's positions, each with a suspicion score (higher = more suspicious). */
interface Scored {
  firstError: number;
  positions: number[];
  suspicion: number[];
  ranking: number[];
}

function groupBy<T>(rows: readonly T[], key: (r: T) => string): Map<string, T[]> {
  const out = new Map<string, T[]>();
  for (const r of rows) {
    const k = key(r);
    const list = out.get(k);
    if (list) list.push(r);
    else out.set(k, [r]);
  }
  return out;
}

/** Trajectory ids sorted, so pooled AUROC inputs and random draws do not depend on row order. */
function sortedEntries<T>(m: Map<string, T>): [string, T][] {
  return [...m.entries()].sort((x, y) => (x[0] < y[0] ? -1 : x[0] > y[0] ? 1 : 0));
}

function summarise(detector: DetectorRow["detector"], scored: Scored[]): DetectorRow {
  const cases: DetectorCase[] = scored.map((s) => ({
    ranking: s.ranking,
    firstError: s.firstError,
  }));
  const rates = hitRates(cases);
  const scores = scored.flatMap((s) => s.suspicion);
  const labels = scored.flatMap((s) => s.positions.map((p) => p === s.firstError));
  return { detector, ...rates, auroc: scores.length > 0 ? auroc(scores, labels) : null };
}

/** Ranks positions by descending suspicion (ties: earliest first). */
function rankDescending(positions: readonly number[], suspicion: readonly number[]): number[] {
  return rankAscending(suspicion.map((s) => -s)).map((i) => positions[i]);
}

/** The three token-score detectors on the scored trajectories that have a known first error. */
function tokenScoreDetectors(
  tokenScores: readonly TokenScoreRow[],
  firstErrors: Map<string, number>,
): DetectorRow[] {
  const ce: Scored[] = [], random: Scored[] = [], policy: Scored[] = [];
  for (const [id, rows] of sortedEntries(groupBy(tokenScores, (r) => r.trajectory_id))) {
    const firstError = firstErrors.get(id);
    if (firstError === undefined) continue;
    const sorted = [...rows].sort((a, b) => a.position - b.position);
    const positions = sorted.map((r) => r.position);
    const make = (suspicion: number[]): Scored => ({
      firstError,
      positions,
      suspicion,
      ranking: rankDescending(positions, suspicion),
    });
    ce.push(make(sorted.map((r) => -r.s_t)));
    // One stream per trajectory: the draw does not depend on which other trajectories exist.
    const rng = Random.derive(RANDOM_DETECTOR_SEED, id);
    random.push(make(sorted.map(() => rng.next())));
    policy.push(make(sorted.map((r) => -r.lp_policy)));
  }
  return [
    summarise("ce_argmin", ce),
    summarise("random", random),
    summarise("min_policy_prob", policy),
  ];
}

/**
 * Correctness drop of each rolled-out position: the previous rolled-out prefix's correctness
 * minus this one's (position −1, the bare prompt, precedes position 0). Equal to
 * `correctnessDrops` when every position was rolled out; a missing prompt row counts as no drop
 * at the first position.
 */
export function rolloutDrops(
  rows: readonly RolloutRow[],
): { positions: number[]; drops: number[]; critical: boolean[] } {
  const sorted = [...rows].sort((a, b) => a.position - b.position);
  const prompt = sorted.find((r) => r.position === -1);
  const body = sorted.filter((r) => r.position >= 0);
  let previous = prompt ? prompt.correctness : body[0]?.correctness ?? 0;
  const drops: number[] = [];
  for (const r of body) {
    drops.push(previous - r.correctness);
    previous = r.correctness;
  }
  return {
    positions: body.map((r) => r.position),
    drops,
    critical: body.map((r) => Boolean(r.is_critical)),
  };
}

function rolloutDetector(
  rollouts: readonly RolloutRow[],
  firstErrors: Map<string, number>,
): DetectorRow {
  const scored: Scored[] = [];
  for (const [id, rows] of sortedEntries(groupBy(rollouts, (r) => r.trajectory_id))) {
    const firstError = firstErrors.get(id);
    if (firstError === undefined) continue;
    const { positions, drops, critical } = rolloutDrops(rows);
    const byDrop = rankDescending(positions, drops);
    const head = positions.filter((_, i) => critical[i]);
    scored.push({
      firstError,
      positions,
      suspicion: drops,
      ranking: [...head, ...byDrop.filter((p) => !head.includes(p))],
    });
  }
  return summarise("rollout", scored);
}

/** AUROC of −s_t against is_critical over rollout tokens that have contrastive scores. */
function ceVsRollout(tokenScores: readonly TokenScoreRow[], rollouts: readonly RolloutRow[]) {
  const s = new Map(tokenScores.map((r) => [`${r.trajectory_id}\u0000${r.position}`, r.s_t]));
  const ordered = rollouts
    .filter((r) => r.position >= 0)
    .sort((a, b) =>
      a.trajectory_id < b.trajectory_id
        ? -1
        : a.trajectory_id > b.trajectory_id
        ? 1
        : a.position - b.position
    );
  const scores: number[] = [], labels: boolean[] = [];
  for (const r of ordered) {
    const st = s.get(`${r.trajectory_id}\u0000${r.position}`);
    if (st === undefined) continue;
    scores.push(-st);
    labels.push(Boolean(r.is_critical));
  }
  return { auroc: scores.length > 0 ? auroc(scores, labels) : null, tokens: scores.length };
}

/**
 * The detector table from whichever inputs exist: the token-score detectors need
 * token_scores, the rollout detector needs rollouts; both need trajectories for the first errors.
 */
export function computeDetectors(
  trajectories: readonly TrajectoryRow[],
  tokenScores: readonly TokenScoreRow[] | null,
  rollouts: readonly RolloutRow[] | null,
): DetectorResults {
  const firstErrors = new Map<string, number>();
  for (const t of trajectories) {
    if (t.first_error !== null && t.first_error !== undefined) {
      firstErrors.set(t.trajectory_id, t.first_error);
    }
  }
  const rows: DetectorRow[] = [];
  if (tokenScores) rows.push(...tokenScoreDetectors(tokenScores, firstErrors));
  if (rollouts) rows.push(rolloutDetector(rollouts, firstErrors));
  rows.sort((a, b) => DETECTORS.indexOf(a.detector) - DETECTORS.indexOf(b.detector));
  const agreement = tokenScores && rollouts
    ? ceVsRollout(tokenScores, rollouts)
    : { auroc: null, tokens: 0 };
  return { rows, ceVsRolloutAuroc: agreement.auroc, ceVsRolloutTokens: agreement.tokens };
}

/** The detector table as text cells: rates and AUROC as fractions with 4 decimals. */
export function detectorText(rows: readonly DetectorRow[]): TextTable {
  return {
    columns: DETECTOR_COLUMNS,
    rows: rows.map((r) => [
      r.detector,
      fixed(r.top1, 4),
      fixed(r.within1, 4),
      fixed(r.top3, 4),
      fixed(r.auroc, 4),
      String(r.n),
    ]),
  };
}
