/**
 * The critical-token analysis of a task without a first-error oracle (GSM8K, MATH500): there is
 * no ground truth to score detectors against, so the rollouts stand in. How many searched
 * trajectories have a rollout critical token, how often contrastive estimation's most suspicious
 * token (argmin s_t) is that token, and the AUROC of −s_t against the rollout labels.
 *
 * @module
 */
import type { RolloutRow, TokenScoreRow, TrajectoryRow } from "../run/schema.ts";

/** What report.md says about critical tokens when the task has no ground truth. */
export interface RolloutSummary {
  /** Incorrect trajectories searched by rollouts. */
  searched: number;
  /** Of those, trajectories where the rollout rule found a critical token. */
  found: number;
  /** Of the found ones, trajectories that also have contrastive scores. */
  scored: number;
  /** Of the scored ones, trajectories whose argmin-s_t token is the rollout critical token. */
  ceAgrees: number;
}

/** Whether any trajectory was judged by a first-error oracle (the world's tasks have one). */
export function hasGroundTruth(trajectories: readonly TrajectoryRow[] | null): boolean {
  return trajectories === null || trajectories.some((t) => t.verdict !== "unknown");
}

/** The rollout-based summary (see the module doc). */
export function rolloutSummary(
  rollouts: readonly RolloutRow[],
  tokenScores: readonly TokenScoreRow[] | null,
): RolloutSummary {
  const searched = new Set(rollouts.map((r) => r.trajectory_id));
  const critical = new Map<string, number>();
  for (const r of rollouts) if (r.is_critical) critical.set(r.trajectory_id, r.position);
  const argmin = new Map<string, { position: number; s: number }>();
  for (const r of tokenScores ?? []) {
    const best = argmin.get(r.trajectory_id);
    // Lowest s_t; on ties the earliest position, as the CE critical token is defined.
    if (!best || r.s_t < best.s || (r.s_t === best.s && r.position < best.position)) {
      argmin.set(r.trajectory_id, { position: r.position, s: r.s_t });
    }
  }
  let scored = 0, ceAgrees = 0;
  for (const [id, position] of critical) {
    const ce = argmin.get(id);
    if (!ce) continue;
    scored++;
    if (ce.position === position) ceAgrees++;
  }
  return { searched: searched.size, found: critical.size, scored, ceAgrees };
}
