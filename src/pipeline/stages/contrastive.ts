/**
 * Contrastive estimation (method.md section 3): the positive and the negative model are
 * fine-tuned from the policy on the positive and the negative SFT sets (stages `sft_pos`,
 * `sft_neg`); stage `ce_scores` then scores every token of every incorrect training trajectory,
 * s_t = softmax((1 + beta) z_pos - beta z_neg)[y_t], and writes the cDPO pairs with token
 * weights 1 - s_t on the rejected side.
 *
 * @module
 */
import { join } from "node:path";
import { readParquetRows, writeParquetAtomic } from "../../io/parquet.ts";
import { readJsonl, writeJsonl } from "../../io/jsonl.ts";
import { contrastiveScores } from "../../critical/contrastive.ts";
import { hashSeed, Random } from "../../random.ts";
import type { LanguageModel } from "../../lm/mod.ts";
import { mapChunks } from "../chunks.ts";
import type { PipelineContext } from "../context.ts";
import type { TokenScoreRow } from "../schema.ts";
import type { StageSpec } from "../stage.ts";
import { type Trajectory, trajectoryIds } from "../trajectory.ts";
import { selectionPaths } from "./sample.ts";
import { trainModel } from "./train_model.ts";

/** The `sft_pos` or `sft_neg` stage. */
export function contrastiveSftStage(ctx: PipelineContext, side: "pos" | "neg"): StageSpec {
  const c = ctx.config.contrastive;
  const data = side === "pos" ? selectionPaths(ctx).positive : selectionPaths(ctx).negative;
  const modelDir = ctx.run.model(`sft_${side}`);
  return {
    name: `sft_${side}`,
    inputs: {
      steps: c.sftSteps,
      lr: c.sftLr,
      batchSize: c.sftBatchSize,
      seed: ctx.config.seed,
      lora: ctx.config.training.loraRank,
    },
    after: ["sample"],
    outputs: [modelDir],
    run: async (workDir) => {
      await trainModel(
        ctx,
        "sft",
        {
          model_dir: ctx.policy.dir,
          data_path: data,
          lr: c.sftLr,
          batch_size: c.sftBatchSize,
          steps: c.sftSteps,
          seed: ctx.config.seed,
          ...loraParams(ctx),
        },
        workDir,
        modelDir,
        `sft_${side}: ${side === "pos" ? "positive" : "negative"} model`,
      );
    },
  };
}

/** The trainer's LoRA params for the configured rank (none for full fine-tuning). */
export function loraParams(ctx: PipelineContext): Record<string, unknown> {
  const r = ctx.config.training.loraRank;
  return r > 0 ? { lora: { r, alpha: 2 * r, dropout: 0.05, target_modules: "all-linear" } } : {};
}

/** s_t and the three models' log-probs for each token of each trajectory. */
export async function scoreTokens(
  policy: LanguageModel,
  pos: LanguageModel,
  neg: LanguageModel,
  prompts: readonly (readonly number[])[],
  responses: readonly (readonly number[])[],
  beta: number,
): Promise<
  { s: Float64Array; lpPos: Float32Array; lpNeg: Float32Array; lpPolicy: Float32Array }[]
> {
  const items = prompts.map((prompt, i) => ({ prompt, continuation: responses[i] }));
  const [dPos, dNeg, lpPolicy] = await Promise.all([
    pos.continuationDistributions(items),
    neg.continuationDistributions(items),
    policy.scoreContinuations(items),
  ]);
  const vocab = pos.facts.vocabSize;
  return items.map((item, i) => {
    const T = item.continuation.length;
    const pick = (d: Float32Array) =>
      Float32Array.from({ length: T }, (_, t) => d[t * vocab + item.continuation[t]]);
    return {
      s: contrastiveScores(dPos[i], dNeg[i], item.continuation, vocab, beta),
      lpPos: pick(dPos[i]),
      lpNeg: pick(dNeg[i]),
      lpPolicy: lpPolicy[i],
    };
  });
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

/** Path of the pairs with cDPO token weights. */
export function weightedPairsPath(ctx: PipelineContext): string {
  return join(ctx.run.data, "pairs_weighted.jsonl");
}

/** The `ce_scores` stage. */
export function ceScoresStage(ctx: PipelineContext): StageSpec {
  return {
    name: "ce_scores",
    inputs: {
      beta: ctx.config.contrastive.beta,
      maxTrajectories: ctx.config.contrastive.maxTrajectories,
    },
    after: ["sample", "sft_pos", "sft_neg"],
    outputs: [ctx.run.tokenScores, weightedPairsPath(ctx)],
    run: async (workDir) => {
      const [policy, pos, neg] = await Promise.all([
        ctx.model(ctx.policy.dir),
        ctx.model(ctx.run.model("sft_pos")),
        ctx.model(ctx.run.model("sft_neg")),
      ]);
      // No pairs is possible here (the training stages then say what to change).
      const pairs = await readJsonl<{ rejected_id: string; [k: string]: unknown }>(
        selectionPaths(ctx).pairs,
        { allowEmpty: true },
      );
      const rejected = new Set(pairs.map((p) => p.rejected_id));
      const incorrect = scoredTrajectories(
        readParquetRows<Trajectory>(ctx.run.trajectories),
        rejected,
        ctx.config.contrastive.maxTrajectories,
        ctx.config.seed,
      );
      const rows = await mapChunks(
        workDir,
        "ce",
        incorrect,
        64,
        async (chunk) => {
          const scored = await scoreTokens(
            policy,
            pos,
            neg,
            chunk.map((t) => ctx.task.promptIds(policy, ctx.problem(t.problem_id))),
            chunk.map(trajectoryIds),
            ctx.config.contrastive.beta,
          );
          return chunk.flatMap((t, i) =>
            trajectoryIds(t).map((id, position): TokenScoreRow => ({
              trajectory_id: t.trajectory_id,
              position,
              token: policy.detokenize([id]),
              s_t: scored[i].s[position],
              lp_pos: scored[i].lpPos[position],
              lp_neg: scored[i].lpNeg[position],
              lp_policy: scored[i].lpPolicy[position],
              is_first_error: t.first_error === position,
              rejected_in_pair: rejected.has(t.trajectory_id),
            }))
          );
        },
        ctx.progress,
        "ce_scores: incorrect trajectories",
      );
      await writeParquetAtomic(ctx.run.tokenScores, rows);
      const weights = new Map<string, number[]>();
      for (const r of rows) {
        if (!r.rejected_in_pair) continue;
        const w = weights.get(r.trajectory_id) ?? [];
        w[r.position] = 1 - r.s_t;
        weights.set(r.trajectory_id, w);
      }
      await writeJsonl(
        weightedPairsPath(ctx),
        pairs.map((p) => ({ ...p, rejected_weights: weights.get(p.rejected_id) })),
      );
    },
  };
}
