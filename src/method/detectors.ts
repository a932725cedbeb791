/**
 * Detectors of critical tokens, scored against the world's ground-truth first-error token.
 * A detector ranks a trajectory's response positions (most suspicious first); it hits top-1 when
 * its first position is the first error, within-1 when that position is at most one token away,
 * and top-3 when the first error is among its first three.
 *
 * Detectors (most suspicious first):
 * - ce_argmin: ascending s_t (contrastive estimation);
 * - rollout: the rollout rule's critical token, then the others by descending correctness drop;
 * - random: a seeded random order (the chance baseline);
 * - min_policy_prob: ascending log-prob under the policy (the "surprising token" baseline).
 *
 * @module
 */
import { auroc } from "../stats/auroc.ts";
import {
  DETECTORS,
  type RolloutRow,
  type TokenScoreRow,
  type TrajectoryRow,
} from "../run/schema.ts";
import { Random } from "../random.ts";

/** One trajectory's ranking by a detector, with the true first-error index. */
export interface DetectorCase {
  ranking: readonly number[];
  firstError: number;
}

/** Hit rates of a detector, as fractions in [0, 1]. */
export interface HitRates {
  top1: number;
  within1: number;
  top3: number;
  n: number;
}

/** Aggregates hit rates over cases; n = 0 gives NaN rates (reported as empty, never as 0). */
export function hitRates(cases: readonly DetectorCase[]): HitRates {
  let top1 = 0, within1 = 0, top3 = 0;
  for (const c of cases) {
    if (c.ranking.length === 0) continue;
    if (c.ranking[0] === c.firstError) top1++;
    if (Math.abs(c.ranking[0] - c.firstError) <= 1) within1++;
    if (c.ranking.slice(0, 3).includes(c.firstError)) top3++;
  }
  const n = cases.length;
  return { top1: top1 / n, within1: within1 / n, top3: top3 / n, n };
}

/** Positions sorted by ascending score (ties: earliest first). */
export function rankAscending(scores: ArrayLike<number>): number[] {
  return Array.from({ length: scores.length }, (_, i) => i).sort((a, b) =>
    scores[a] - scores[b] || a - b
  );
}

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
