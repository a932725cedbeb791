/**
 * Contrastive estimation (method.md section 3): stages `sft_pos` and `sft_neg` fine-tune the
 * positive and the negative model from the policy on the positive and the negative SFT sets;
 * stage `ce_scores` scores every token of the incorrect training trajectories it selects and
 * writes the cDPO pairs with token weights 1 - s_t on the rejected side.
 *
 * @module
 */
import { readParquetRows, writeParquetAtomic } from "../../io/parquet.ts";
import { readJsonl, writeJsonl } from "../../io/jsonl.ts";
import {
  scoredTrajectories,
  scoreTokens,
  tokenScoreRows,
  type Trajectory,
  trajectoryIds,
} from "../../method/mod.ts";
import type { TokenScoreRow } from "../../run/schema.ts";
import { mapChunks } from "../chunks.ts";
import type { PipelineContext } from "../context.ts";
import type { StageSpec } from "../stage.ts";
import { trainModel } from "./train_model.ts";

/** Trajectories per resumable chunk of `ce_scores` (scores do not depend on it). */
const CE_CHUNK_TRAJECTORIES = 64;

/** The `sft_pos` or `sft_neg` stage. */
export function contrastiveSftStage(ctx: PipelineContext, side: "pos" | "neg"): StageSpec {
  const c = ctx.config.contrastive;
  const data = side === "pos" ? ctx.run.sftPositive : ctx.run.sftNegative;
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

/** The `ce_scores` stage. */
export function ceScoresStage(ctx: PipelineContext): StageSpec {
  return {
    name: "ce_scores",
    inputs: {
      beta: ctx.config.contrastive.beta,
      maxTrajectories: ctx.config.contrastive.maxTrajectories,
    },
    after: ["sample", "sft_pos", "sft_neg"],
    outputs: [ctx.run.tokenScores, ctx.run.pairsWeighted],
    run: async (workDir) => {
      const [policy, pos, neg] = await Promise.all([
        ctx.model(ctx.policy.dir),
        ctx.model(ctx.run.model("sft_pos")),
        ctx.model(ctx.run.model("sft_neg")),
      ]);
      const pairs = await readJsonl<{ rejected_id: string; [k: string]: unknown }>(ctx.run.pairs);
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
        CE_CHUNK_TRAJECTORIES,
        async (chunk) => {
          const scored = await scoreTokens(
            { policy, pos, neg },
            chunk.map((t) => ctx.task.promptIds(policy, ctx.problem(t.problem_id))),
            chunk.map(trajectoryIds),
            ctx.config.contrastive.beta,
          );
          return chunk.flatMap((t, i): TokenScoreRow[] =>
            tokenScoreRows(
              policy,
              { id: t.trajectory_id, response: trajectoryIds(t), firstError: t.first_error },
              scored[i],
              rejected.has(t.trajectory_id),
            )
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
        ctx.run.pairsWeighted,
        pairs.map((p) => ({ ...p, rejected_weights: weights.get(p.rejected_id) })),
      );
    },
  };
}
