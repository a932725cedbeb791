/**
 * Contrastive estimation (method.md section 3): stages `sft_pos` and `sft_neg` fine-tune the
 * positive and the negative model from the policy on the positive and the negative SFT sets of
 * every training question; with `contrastive.outOfSample`, `sft_pos_a`/`sft_neg_a` and
 * `sft_pos_b`/`sft_neg_b` do the same on each half of the questions (cross-fitting). Stage
 * `ce_scores` scores every token of the incorrect training trajectories it selects, in sample
 * (the paper's way) and out of sample (by the other half's models), and writes the cDPO pairs
 * with token weights 1 - s_t on the rejected side.
 *
 * @module
 */
import { readParquetRows, writeParquetAtomic } from "../../io/parquet.ts";
import { readJsonl, writeJsonl } from "../../io/jsonl.ts";
import {
  argmin,
  crossFitHalves,
  scoredTrajectories,
  scoreTokens,
  tokenScoreRows,
  type TokenScores,
  type Trajectory,
  trajectoryIds,
} from "../../method/mod.ts";
import type { BetaSweepRow, TokenScoreRow } from "../../run/schema.ts";
import { mapChunks } from "../chunks.ts";
import type { PipelineContext } from "../context.ts";
import type { StageSpec } from "../stage.ts";
import { TOKEN_SCORE_COLUMNS } from "../../run/schema.ts";
import { fineTuneParams, requestSettings } from "../train_params.ts";
import { TRAINING_MODULES, trainModel } from "./train_model.ts";

/**
 * Trajectories per resumable chunk of `ce_scores`, at most: fewer when `sampling.rowsPerPiece` is
 * smaller (a real model on a CPU). Scores do not depend on it.
 */
const CE_CHUNK_TRAJECTORIES = 64;

/** A contrastive model's name (stage and models/ folder): sft_pos, sft_neg, sft_pos_a, ... */
export function contrastiveModelName(side: "pos" | "neg", half: 0 | 1 | null): string {
  return `sft_${side}${half === null ? "" : half === 0 ? "_a" : "_b"}`;
}

/**
 * The stage that fine-tunes the positive or negative model on every training question (`half`
 * null) or on one cross-fitting half of them.
 */
export function contrastiveSftStage(
  ctx: PipelineContext,
  side: "pos" | "neg",
  half: 0 | 1 | null = null,
): StageSpec {
  const c = ctx.config.contrastive;
  const name = contrastiveModelName(side, half);
  const modelDir = ctx.run.model(name);
  const data = half === null
    ? (side === "pos" ? ctx.run.sftPositive : ctx.run.sftNegative)
    : ctx.run.sftHalf(side, half);
  const params: Record<string, unknown> = {
    ...fineTuneParams(ctx.config, {
      modelDir: ctx.policy.dir,
      lr: c.sftLr,
      steps: c.sftSteps,
      batchSize: c.sftBatchSize,
      seed: ctx.config.seed,
    }),
    data_path: data,
  };
  const settings = requestSettings(params);
  return {
    name,
    inputs: { side, half, settings, policy: ctx.policy.hash },
    after: ["sample"],
    code: [import.meta.url],
    trainer: TRAINING_MODULES,
    outputs: [modelDir],
    run: async () => {
      await trainModel(
        ctx,
        name,
        "sft",
        params,
        modelDir,
        `${name}: ${side === "pos" ? "positive" : "negative"} model` +
          (half === null ? "" : ` (half ${half === 0 ? "a" : "b"})`),
      );
    },
  };
}

/** Every contrastive model's stage: in sample, then (when the run cross-fits) each half's. */
export function contrastiveSftStages(ctx: PipelineContext): StageSpec[] {
  const halves = ctx.config.contrastive.outOfSample ? [0, 1] as const : [];
  return [
    contrastiveSftStage(ctx, "pos"),
    contrastiveSftStage(ctx, "neg"),
    ...halves.flatMap((
      h,
    ) => [contrastiveSftStage(ctx, "pos", h), contrastiveSftStage(ctx, "neg", h)]),
  ];
}

/** The `ce_scores` stage. */
export function ceScoresStage(ctx: PipelineContext): StageSpec {
  const c = ctx.config.contrastive;
  const modelStages = contrastiveSftStages(ctx).map((s) => s.name);
  return {
    name: "ce_scores",
    inputs: {
      beta: c.beta,
      maxTrajectories: c.maxTrajectories,
      outOfSample: c.outOfSample,
      weightsFrom: c.weightsFrom,
      betaSweep: c.betaSweep,
    },
    after: ["sample", ...modelStages],
    code: [import.meta.url],
    trainer: ctx.lmTrainerModules(),
    outputs: [ctx.run.tokenScores, ctx.run.ceBetaSweep, ctx.run.pairsWeighted, ctx.run.heldOutEval],
    // A policy that is never wrong on the sampled problems leaves nothing to score.
    tables: [
      { path: ctx.run.tokenScores, table: "tokenScores", allowEmpty: true },
      { path: ctx.run.ceBetaSweep, table: "ceBetaSweep", allowEmpty: true },
    ],
    run: async (workDir) => {
      const model = (side: "pos" | "neg", half: 0 | 1 | null) =>
        ctx.model(ctx.run.model(contrastiveModelName(side, half)));
      const policy = await ctx.model(ctx.policy.dir);
      const inSample = { policy, pos: await model("pos", null), neg: await model("neg", null) };
      // A trajectory of half h is scored out of sample by the models of the other half.
      const otherHalf = c.outOfSample
        ? await Promise.all(([1, 0] as const).map(async (h) => ({
          policy,
          pos: await model("pos", h),
          neg: await model("neg", h),
        })))
        : null;
      const halves = crossFitHalves(ctx.problems.train.map((p) => p.id), ctx.config.seed);
      type Pair = { rejected_id: string; [k: string]: unknown };
      // No pairs is possible here (the training stages then say what to change).
      const pairs = await readJsonl<Pair>(ctx.run.pairs, { allowEmpty: true });
      const heldOut = await readJsonl<Pair>(ctx.run.pairsHeldOut, { allowEmpty: true });
      const rejected = new Set([...pairs, ...heldOut].map((p) => p.rejected_id));
      const incorrect = scoredTrajectories(
        readParquetRows<Trajectory>(ctx.run.trajectories),
        rejected,
        c.maxTrajectories,
        ctx.config.seed,
      );
      const chunks = await mapChunks(
        workDir,
        "ce",
        incorrect,
        Math.min(CE_CHUNK_TRAJECTORIES, ctx.config.sampling.rowsPerPiece),
        async (chunk) => {
          const prompts = chunk.map((t) => ctx.task.promptIds(policy, ctx.problem(t.problem_id)));
          const responses = chunk.map(trajectoryIds);
          const scoredIn = await scoreTokens(inSample, prompts, responses, c.beta, c.betaSweep);
          const scoredOut: (TokenScores | null)[] = chunk.map(() => null);
          if (otherHalf) {
            for (const h of [0, 1] as const) {
              const idx = chunk.flatMap((t, i) => (halves.get(t.problem_id) === h ? [i] : []));
              if (idx.length === 0) continue;
              const scored = await scoreTokens(
                otherHalf[h],
                idx.map((i) => prompts[i]),
                idx.map((i) => responses[i]),
                c.beta,
                c.betaSweep,
              );
              idx.forEach((i, k) => scoredOut[i] = scored[k]);
            }
          }
          const tokens: TokenScoreRow[] = [];
          const sweep: BetaSweepRow[] = [];
          chunk.forEach((t, i) => {
            tokens.push(...tokenScoreRows(
              policy,
              { id: t.trajectory_id, response: responses[i], firstError: t.first_error },
              scoredIn[i],
              scoredOut[i],
              rejected.has(t.trajectory_id),
            ));
            for (const [sample, scores] of [["in", scoredIn[i]], ["out", scoredOut[i]]] as const) {
              if (!scores) continue;
              c.betaSweep.forEach((beta, b) =>
                scores.sweep[b].forEach((s_t, position) =>
                  sweep.push({ trajectory_id: t.trajectory_id, position, sample, beta, s_t })
                )
              );
            }
          });
          return [{ tokens, sweep }];
        },
        ctx.progress,
        "ce_scores: incorrect trajectories",
      );
      const rows = chunks.flatMap((ch) => ch.tokens);
      await writeParquetAtomic(ctx.run.tokenScores, rows, TOKEN_SCORE_COLUMNS);
      await writeParquetAtomic(
        ctx.run.ceBetaSweep,
        chunks.flatMap((ch) => ch.sweep),
        ["trajectory_id", "position", "sample", "beta", "s_t"],
      );
      const weights = new Map<string, number[]>();
      for (const r of rows) {
        if (!r.rejected_in_pair) continue;
        const w = weights.get(r.trajectory_id) ?? [];
        w[r.position] = 1 - (c.weightsFrom === "out" ? r.s_t_out! : r.s_t);
        weights.set(r.trajectory_id, w);
      }
      await writeJsonl(
        ctx.run.pairsWeighted,
        pairs.map((p) => ({ ...p, rejected_weights: weights.get(p.rejected_id) })),
      );
      // The held-out pairs' critical tokens: each rejected response's lowest s_t (the weights' source).
      await writeJsonl(
        ctx.run.heldOutEval,
        heldOut.map((p) => {
          const w = weights.get(p.rejected_id)!;
          // The lowest s_t is the largest weight 1 - s_t.
          return { ...p, rejected_critical: [argmin(w.map((x) => -x))] };
        }),
      );
    },
  };
}
