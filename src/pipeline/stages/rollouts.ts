/**
 * Stage `rollouts` (method.md section 2, Figure 1): the rollout search over a seeded sample of
 * incorrect training trajectories; writes the per-prefix correctness and Figure 1's pass@k curves.
 * Resumable piece by piece: a trajectory's prefixes are sampled `sampling.rowsPerPiece` rows at
 * a time (at least one prefix), each piece's raw samples kept before grading, the "without" arm
 * its own piece, and each finished trajectory kept whole.
 *
 * @module
 */
import { join } from "node:path";
import { readParquetRows, writeParquetAtomic } from "../../io/parquet.ts";
import { writeFileAtomic } from "../../io/atomic.ts";
import {
  passKCurves,
  rolloutCandidates,
  type RolloutResult,
  rolloutTrajectory,
  rolloutWork,
  type Trajectory,
} from "../../method/mod.ts";
import { cachedJson } from "../chunks.ts";
import type { PipelineContext } from "../context.ts";
import type { StageSpec } from "../stage.ts";

/** The `rollouts` stage. */
export function rolloutsStage(ctx: PipelineContext): StageSpec {
  return {
    name: "rollouts",
    inputs: { rollouts: ctx.config.rollouts, seed: ctx.config.seed, sampler: ctx.sampler },
    after: ["sample"],
    code: [import.meta.url],
    trainer: ctx.lmTrainerModules(),
    outputs: [ctx.run.rollouts, ctx.run.passk],
    // No incorrect trajectory to search (or rollouts.trajectories 0) leaves both tables empty.
    tables: [
      { path: ctx.run.rollouts, table: "rollouts", allowEmpty: true },
      { path: ctx.run.passk, table: "passk", allowEmpty: true },
    ],
    run: async (workDir) => {
      const lm = await ctx.model(ctx.policy.dir);
      const { samples, trajectories: count } = ctx.config.rollouts;
      const { temperature, topP, maxNewTokens } = ctx.config.sampling;
      const chosen = rolloutCandidates(
        readParquetRows<Trajectory>(ctx.run.trajectories),
        count,
        ctx.config.seed,
      );
      const total = chosen.reduce((sum, t) => sum + rolloutWork(t), 0);
      ctx.progress.start("rollouts: prefixes", total);
      const results: RolloutResult[] = [];
      let before = 0;
      for (const [i, t] of chosen.entries()) {
        const name = `rollouts-${String(i).padStart(5, "0")}`;
        const file = (key: string) => join(workDir, `${name}${key ? `-${key}` : ""}.json`);
        const pieces = new Set<string>();
        results.push(
          await cachedJson(
            file(""),
            () =>
              rolloutTrajectory(lm, ctx.task, ctx.problem(t.problem_id), t, {
                samples,
                temperature,
                topP,
                maxNewTokens,
                seed: ctx.config.seed,
                rowsPerPiece: ctx.config.sampling.rowsPerPiece,
                keep: (key, compute) => {
                  pieces.add(file(key));
                  return cachedJson(file(key), compute);
                },
                onPiece: (done) => ctx.progress.update(before + done),
              }),
          ),
        );
        // The trajectory is kept whole now; its pieces (raw samples: the bulk) can go.
        for (const piece of pieces) await Deno.remove(piece).catch(() => {});
        before += rolloutWork(t);
        ctx.progress.update(before);
      }
      ctx.progress.finish();
      await writeParquetAtomic(ctx.run.rollouts, results.flatMap((r) => r.rows), [
        "trajectory_id",
        "position",
        "token",
        "correctness",
        "samples",
        "is_critical",
        "is_first_error",
      ]);
      const passk = passKCurves(results, samples);
      await writeParquetAtomic(ctx.run.passk, passk, ["k", "with_critical", "without_critical"]);
      const found = results.filter((r) => r.critical !== null).length;
      await writeFileAtomic(
        `${workDir}/summary.json`,
        JSON.stringify({ searched: results.length, found }),
      );
      const at = (k: number) => passk.find((p) => p.k === k);
      ctx.progress.log(
        `rollouts: critical token in ${found}/${results.length} trajectories; pass@1 with ` +
          `${at(1)?.with_critical.toFixed(1) ?? "-"}% vs without ${
            at(1)?.without_critical.toFixed(1) ?? "-"
          }%`,
      );
    },
  };
}
