/**
 * Contrastive estimation (method.md, section 3). At each response position t, with the positive
 * and negative models' log-probabilities over the vocabulary,
 *   s_t = softmax_v((1 + beta) lp_pos(v) - beta lp_neg(v)) evaluated at the realised token y_t.
 * Log-probs differ from logits by a per-position constant, which the softmax removes, so
 * log-probs serve as well as logits. Computed in float64 (the reference code used bf16).
 *
 * @module
 */
import { hashSeed, Random } from "../random.ts";
import type { LanguageModel } from "../lm/mod.ts";
import type { TokenScoreRow } from "../run/schema.ts";
import type { Trajectory } from "./trajectory.ts";

/**
 * s_t for every position. `pos` and `neg` are [T, V] row-major log-prob matrices, `tokens` the
 * T realised tokens.
 */
export function contrastiveScores(
  pos: Float32Array,
  neg: Float32Array,
  tokens: readonly number[],
  vocabSize: number,
  beta = 1,
): Float64Array {
  const T = tokens.length;
  if (pos.length !== T * vocabSize || neg.length !== T * vocabSize) {
    throw new RangeError(
      `Cannot compute contrastive scores: expected [${T}, ${vocabSize}] log-probs, got ${pos.length} and ${neg.length} values`,
    );
  }
  const out = new Float64Array(T);
  for (let t = 0; t < T; t++) {
    const row = t * vocabSize;
    let max = -Infinity;
    for (let v = 0; v < vocabSize; v++) {
      const z = (1 + beta) * pos[row + v] - beta * neg[row + v];
      if (z > max) max = z;
    }
    let sum = 0;
    for (let v = 0; v < vocabSize; v++) {
      sum += Math.exp((1 + beta) * pos[row + v] - beta * neg[row + v] - max);
    }
    const y = tokens[t];
    if (!(y >= 0 && y < vocabSize)) {
      throw new RangeError(`Cannot score token ${y} at position ${t}: outside the vocabulary`);
    }
    out[t] = Math.exp((1 + beta) * pos[row + y] - beta * neg[row + y] - max) / sum;
  }
  return out;
}

/** The index of the smallest score (the "CE critical token"); ties go to the earliest. */
export function argmin(scores: ArrayLike<number>): number {
  let best = 0;
  for (let i = 1; i < scores.length; i++) if (scores[i] < scores[best]) best = i;
  return best;
}

/** The three models contrastive estimation reads: the policy and the positive and negative models. */
export interface ContrastiveModels {
  policy: LanguageModel;
  pos: LanguageModel;
  neg: LanguageModel;
}

/** One trajectory's per-token s_t and the three models' log-probs of its tokens. */
export interface TokenScores {
  s: Float64Array;
  lpPos: Float32Array;
  lpNeg: Float32Array;
  lpPolicy: Float32Array;
  /** s_t at each beta of the sweep, in the order asked. */
  sweep: Float64Array[];
}

/**
 * s_t and the three models' log-probs for each token of each (prompt, response); `sweep` asks
 * for s_t at other betas too (the full distributions are at hand, so each costs one softmax).
 */
export async function scoreTokens(
  models: ContrastiveModels,
  prompts: readonly (readonly number[])[],
  responses: readonly (readonly number[])[],
  beta: number,
  sweep: readonly number[] = [],
): Promise<TokenScores[]> {
  const items = prompts.map((prompt, i) => ({ prompt, continuation: responses[i] }));
  const policyScores = models.policy.scoreContinuations(items);
  policyScores.catch(() => {}); // awaited below; a rejection must not go unhandled meanwhile
  // Where both models run in one trainer, s_t is formed there: no [T, vocab] matrix crosses over.
  const onDevice = await models.pos.contrastiveScores?.(models.neg, items, [beta, ...sweep]);
  if (onDevice) {
    const lpPolicy = await policyScores;
    return onDevice.map((c, i) => ({
      s: c.s[0],
      lpPos: c.lpPos,
      lpNeg: c.lpNeg,
      lpPolicy: lpPolicy[i],
      sweep: c.s.slice(1),
    }));
  }
  const [dPos, dNeg, lpPolicy] = await Promise.all([
    models.pos.continuationDistributions(items),
    models.neg.continuationDistributions(items),
    policyScores,
  ]);
  const vocab = models.pos.facts.vocabSize;
  return items.map((item, i) => {
    const T = item.continuation.length;
    const pick = (d: Float32Array) =>
      Float32Array.from({ length: T }, (_, t) => d[t * vocab + item.continuation[t]]);
    return {
      s: contrastiveScores(dPos[i], dNeg[i], item.continuation, vocab, beta),
      lpPos: pick(dPos[i]),
      lpNeg: pick(dNeg[i]),
      lpPolicy: lpPolicy[i],
      sweep: sweep.map((b) => contrastiveScores(dPos[i], dNeg[i], item.continuation, vocab, b)),
    };
  });
}

/**
 * The rows of data/token_scores.parquet for one scored trajectory: in-sample scores, and
 * out-of-sample ones when the run cross-fits (null otherwise).
 */
export function tokenScoreRows(
  lm: LanguageModel,
  trajectory: { id: string; response: readonly number[]; firstError: number | null },
  inSample: TokenScores,
  outOfSample: TokenScores | null,
  rejectedInPair: boolean,
): TokenScoreRow[] {
  return trajectory.response.map((id, position) => ({
    trajectory_id: trajectory.id,
    position,
    token: lm.detokenize([id]),
    s_t: inSample.s[position],
    lp_pos: inSample.lpPos[position],
    lp_neg: inSample.lpNeg[position],
    lp_policy: inSample.lpPolicy[position],
    s_t_out: outOfSample ? outOfSample.s[position] : null,
    lp_pos_out: outOfSample ? outOfSample.lpPos[position] : null,
    lp_neg_out: outOfSample ? outOfSample.lpNeg[position] : null,
    is_first_error: trajectory.firstError === position,
    rejected_in_pair: rejectedInPair,
  }));
}

/**
 * Cross-fitting's two halves of the training questions: a seeded shuffle of the sorted ids cut
 * in the middle. Models trained on one half score the other half's trajectories, so no
 * trajectory is scored by a model that trained on its question.
 */
export function crossFitHalves(problemIds: readonly string[], seed: number): Map<string, 0 | 1> {
  const ids = [...new Set(problemIds)].sort();
  const shuffled = new Random(hashSeed(seed, "cross-fit")).shuffle(ids);
  const half = Math.ceil(shuffled.length / 2);
  return new Map(shuffled.map((id, i) => [id, i < half ? 0 : 1]));
}

/**
 * The incorrect trajectories to score: every rejected one (cDPO needs their weights), then a
 * seeded sample of the other incorrect ones up to `max` in all (0 = all), in stored order.
 */
export function scoredTrajectories(
  trajectories: readonly Trajectory[],
  rejected: ReadonlySet<string>,
  max: number,
  seed: number,
): Trajectory[] {
  const incorrect = trajectories.filter((t) => !t.correct && t.answer !== null && t.n_tokens > 0);
  if (max === 0 || incorrect.length <= max) return incorrect;
  const others = incorrect.filter((t) => !rejected.has(t.trajectory_id));
  const room = Math.max(0, max - (incorrect.length - others.length));
  const keep = new Set(
    new Random(hashSeed(seed, "ce-sample")).shuffle(others).slice(0, room).map((t) =>
      t.trajectory_id
    ),
  );
  return incorrect.filter((t) => rejected.has(t.trajectory_id) || keep.has(t.trajectory_id));
}
