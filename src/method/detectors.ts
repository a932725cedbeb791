/**
 * Detectors of critical tokens, scored against the world's ground-truth first-error token.
 * A detector ranks a trajectory's response positions (most suspicious first); it hits top-1 when
 * its first position is the first error, within-1 when that position is at most one token away,
 * and top-3 when the first error is among its first three.
 *
 * Detectors (most suspicious first):
 * - ce_argmin: ascending s_t (contrastive estimation at the run's beta);
 * - ce_log_ratio: ascending log P_pos - log P_neg (CE without the softmax over the vocabulary);
 * - ce_pos_only: ascending log P_pos (the positive model alone);
 * - ce_beta_<b>: ascending s_t at another beta (the beta sweep);
 * - rollout: the rollout rule's critical token, then the others by descending correctness drop;
 * - random: a seeded random order (the chance baseline);
 * - min_policy_prob: ascending log-prob under the policy (the "surprising token" baseline).
 *
 * Each is scored per first-error kind (as the task's oracle names them, and `all`) and per
 * sample: `in` uses the contrastive scores of the models trained on every training question,
 * `out` those of the models that never saw the trajectory's question. Detectors that do not use
 * those models (rollout, random, min_policy_prob) have the same numbers in both. A trajectory
 * whose first error is the end-of-sequence position (it stopped early) cannot be found by any
 * detector, which ranks response tokens only: it is counted apart (`nEos`), not as a miss.
 *
 * @module
 */
import { auroc } from "../stats/auroc.ts";
import {
  type BetaSweepRow,
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

/** The `kind` of the rows that pool every first-error kind. */
export const ALL_KINDS = "all";

/** Which contrastive scores a row uses. */
export type Sample = "in" | "out";

/** One detector's row: its hit rates on one kind of first error, with one sample's scores. */
export interface DetectorRow {
  detector: string;
  kind: string;
  sample: Sample;
  top1: number;
  within1: number;
  top3: number;
  auroc: number | null;
  /** Trajectories scored. */
  n: number;
  /** Trajectories of this kind whose first error is the end-of-sequence position (left out). */
  nEos: number;
}

/** The detector table and the agreement of s_t with the rollout labels. */
export interface DetectorResults {
  rows: DetectorRow[];
  /**
   * AUROC of −s_t (out of sample when present, else in sample) against the rollout rule's
   * critical token (is_critical), pooled over the tokens of rollout trajectories that also have
   * contrastive scores; null without both classes.
   */
  ceVsRolloutAuroc: number | null;
  /** Tokens behind {@linkcode ceVsRolloutAuroc}. */
  ceVsRolloutTokens: number;
}

/** One trajectory's positions, each with a suspicion score (higher = more suspicious). */
interface Scored {
  id: string;
  kind: string;
  firstError: number;
  positions: number[];
  suspicion: number[];
  ranking: number[];
}

/** What the table needs of a trajectory with a known first error. */
interface Known {
  firstError: number;
  kind: string;
  eos: boolean;
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

function summarise(
  detector: string,
  kind: string,
  sample: Sample,
  scored: readonly Scored[],
  nEos: number,
): DetectorRow {
  const rates = hitRates(scored.map((s) => ({ ranking: s.ranking, firstError: s.firstError })));
  const scores = scored.flatMap((s) => s.suspicion);
  const labels = scored.flatMap((s) => s.positions.map((p) => p === s.firstError));
  return {
    detector,
    kind,
    sample,
    ...rates,
    auroc: scores.length > 0 ? auroc(scores, labels) : null,
    nEos,
  };
}

/** Ranks positions by descending suspicion (ties: earliest first). */
function rankDescending(positions: readonly number[], suspicion: readonly number[]): number[] {
  return rankAscending(suspicion.map((s) => -s)).map((i) => positions[i]);
}

/** Scored trajectories of one detector from per-position suspicion; trajectories without a known first error are skipped. */
function scoreTrajectories(
  groups: [string, { position: number }[]][],
  known: ReadonlyMap<string, Known>,
  suspicion: (id: string, rows: { position: number }[]) => number[] | null,
): Scored[] {
  const out: Scored[] = [];
  for (const [id, rows] of groups) {
    const k = known.get(id);
    if (!k || k.eos) continue;
    const s = suspicion(id, rows);
    if (s === null) continue;
    const positions = rows.map((r) => r.position);
    out.push({
      id,
      kind: k.kind,
      firstError: k.firstError,
      positions,
      suspicion: s,
      ranking: rankDescending(positions, s),
    });
  }
  return out;
}

/** The token-score detectors of one sample, each as scored trajectories. */
function tokenDetectors(
  tokenScores: readonly TokenScoreRow[],
  sweep: readonly BetaSweepRow[],
  known: ReadonlyMap<string, Known>,
  sample: Sample,
): Map<string, Scored[]> {
  const groups = sortedEntries(groupBy(tokenScores, (r) => r.trajectory_id)).map((
    [id, rows],
  ): [string, TokenScoreRow[]] => [id, [...rows].sort((a, b) => a.position - b.position)]);
  const pick = (inSample: number, out: number | null) => sample === "in" ? inSample : out;
  const column =
    (value: (r: TokenScoreRow) => number | null) => (_id: string, rows: { position: number }[]) => {
      const values = (rows as TokenScoreRow[]).map(value);
      return values.every((v) => v !== null && v !== undefined) ? values.map((v) => -v!) : null;
    };
  const out = new Map<string, Scored[]>();
  out.set("ce_argmin", scoreTrajectories(groups, known, column((r) => pick(r.s_t, r.s_t_out))));
  out.set(
    "ce_log_ratio",
    scoreTrajectories(
      groups,
      known,
      column((r) => {
        const pos = pick(r.lp_pos, r.lp_pos_out), neg = pick(r.lp_neg, r.lp_neg_out);
        return pos === null || neg === null ? null : pos - neg;
      }),
    ),
  );
  out.set(
    "ce_pos_only",
    scoreTrajectories(groups, known, column((r) => pick(r.lp_pos, r.lp_pos_out))),
  );
  // One stream per trajectory: the draw does not depend on which other trajectories exist.
  out.set(
    "random",
    scoreTrajectories(groups, known, (id, rows) => {
      const rng = Random.derive(RANDOM_DETECTOR_SEED, id);
      return rows.map(() => rng.next());
    }),
  );
  out.set("min_policy_prob", scoreTrajectories(groups, known, column((r) => r.lp_policy)));
  const mine = sweep.filter((r) => r.sample === sample);
  for (const beta of [...new Set(mine.map((r) => r.beta))].sort((a, b) => a - b)) {
    const at = new Map(
      mine.filter((r) => r.beta === beta).map((
        r,
      ) => [`${r.trajectory_id}\u0000${r.position}`, r.s_t]),
    );
    out.set(
      `ce_beta_${beta}`,
      scoreTrajectories(groups, known, (id, rows) => {
        const values = rows.map((r) => at.get(`${id}\u0000${r.position}`));
        return values.every((v) => v !== undefined) ? values.map((v) => -v!) : null;
      }),
    );
  }
  return out;
}

/**
 * Correctness drop of each rolled-out position: the previous rolled-out prefix's correctness
 * minus this one's (position −1, the bare prompt, precedes position 0); a missing prompt row
 * counts as no drop at the first position.
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

/** The rollout detector: the rule's critical token first, then the others by correctness drop. */
function rolloutDetector(
  rollouts: readonly RolloutRow[],
  known: ReadonlyMap<string, Known>,
): Scored[] {
  const scored: Scored[] = [];
  for (const [id, rows] of sortedEntries(groupBy(rollouts, (r) => r.trajectory_id))) {
    const k = known.get(id);
    if (!k || k.eos) continue;
    const { positions, drops, critical } = rolloutDrops(rows);
    const byDrop = rankDescending(positions, drops);
    const head = positions.filter((_, i) => critical[i]);
    scored.push({
      id,
      kind: k.kind,
      firstError: k.firstError,
      positions,
      suspicion: drops,
      ranking: [...head, ...byDrop.filter((p) => !head.includes(p))],
    });
  }
  return scored;
}

/** AUROC of −s_t against is_critical over rollout tokens that have contrastive scores. */
function ceVsRollout(tokenScores: readonly TokenScoreRow[], rollouts: readonly RolloutRow[]) {
  const s = new Map(
    tokenScores.map((r) => [`${r.trajectory_id}\u0000${r.position}`, r.s_t_out ?? r.s_t]),
  );
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

/** Detector order in the table: the fixed ones, with the beta sweep after the other CE variants. */
function detectorOrder(name: string): number {
  const fixed = DETECTORS.indexOf(name as (typeof DETECTORS)[number]);
  if (fixed >= 0) return fixed < 3 ? fixed : fixed + 1000;
  return 3 + Number(name.slice("ce_beta_".length)) / 1000;
}

/**
 * The detector table from whichever inputs exist: the token-score detectors need token_scores
 * (and the beta sweep its own table), the rollout detector needs rollouts; every detector needs
 * the trajectories for their first errors and kinds.
 */
export function computeDetectors(
  trajectories: readonly TrajectoryRow[],
  tokenScores: readonly TokenScoreRow[] | null,
  rollouts: readonly RolloutRow[] | null,
  sweep: readonly BetaSweepRow[] = [],
): DetectorResults {
  const known = new Map<string, Known>();
  for (const t of trajectories) {
    if (t.first_error === null || t.first_error === undefined) continue;
    known.set(t.trajectory_id, {
      firstError: t.first_error,
      kind: t.verdict,
      eos: t.first_error >= t.n_tokens,
    });
  }
  const samples: Sample[] =
    tokenScores && tokenScores.some((r) => r.s_t_out !== null && r.s_t_out !== undefined)
      ? ["in", "out"]
      : ["in"];
  const rolloutScored = rollouts ? rolloutDetector(rollouts, known) : null;
  const kinds = [ALL_KINDS, ...[...new Set([...known.values()].map((k) => k.kind))].sort()];
  const rows: DetectorRow[] = [];
  for (const sample of samples) {
    const detectors = tokenScores ? tokenDetectors(tokenScores, sweep, known, sample) : new Map();
    if (rolloutScored) detectors.set("rollout", rolloutScored);
    // The trajectories a kind's rows are about: those the detectors were given.
    const inScope = new Set([
      ...(tokenScores ?? []).map((r) => r.trajectory_id),
      ...(rollouts ?? []).map((r) => r.trajectory_id),
    ]);
    for (const kind of kinds) {
      const nEos = [...known.entries()].filter(([id, k]) =>
        k.eos && inScope.has(id) && (kind === ALL_KINDS || k.kind === kind)
      ).length;
      for (
        const [name, scored] of [...detectors].sort((a, b) =>
          detectorOrder(a[0]) - detectorOrder(b[0])
        )
      ) {
        const mine = kind === ALL_KINDS ? scored : scored.filter((s: Scored) =>
          s.kind === kind
        );
        if (mine.length === 0) continue;
        rows.push(summarise(name, kind, sample, mine, nEos));
      }
    }
  }
  const agreement = tokenScores && rollouts
    ? ceVsRollout(tokenScores, rollouts)
    : { auroc: null, tokens: 0 };
  return { rows, ceVsRolloutAuroc: agreement.auroc, ceVsRolloutTokens: agreement.tokens };
}
