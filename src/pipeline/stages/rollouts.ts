/**
 * Stage `rollouts` (method.md section 2, Figure 1): for a seeded sample of incorrect
 * trajectories, the fraction of correct continuations from every prefix, the rollout critical
 * token, and the "without critical token" counterfactual: an alternative token drawn with the
 * critical token masked, then completed. pass@k of both, averaged over trajectories.
 *
 * @module
 */
import { hashSeed, Random } from "../../random.ts";
import { readParquetRows, writeParquetAtomic } from "../../io/parquet.ts";
import { writeFileAtomic } from "../../io/atomic.ts";
import { meanPassAtK, powersOfTwoUpTo } from "../../critical/pass_at_k.ts";
import { rolloutCriticalToken } from "../../critical/rollout_rule.ts";
import type { LanguageModel } from "../../lm/mod.ts";
import { mapChunks } from "../chunks.ts";
import type { PipelineContext } from "../context.ts";
import type { PassKRow, RolloutRow } from "../schema.ts";
import type { StageSpec } from "../stage.ts";
import {
  correctness as gradeCorrectness,
  stripEos,
  type Trajectory,
  trajectoryIds,
} from "../trajectory.ts";

/** One searched trajectory: per-position rows and the with/without counts at its critical token. */
interface RolloutResult {
  rows: RolloutRow[];
  critical: number | null;
  withCorrect: number;
  withoutCorrect: number;
}

/** Rolls out one trajectory. */
export async function rolloutTrajectory(
  lm: LanguageModel,
  ctx: PipelineContext,
  t: Trajectory,
  seed: number,
): Promise<RolloutResult> {
  const problem = ctx.problem(t.problem_id);
  const prompt = ctx.task.promptIds(lm, problem);
  const ids = trajectoryIds(t);
  const words = ids.map((id) => lm.detokenize([id]));
  const correct = (fulls: readonly (readonly number[])[]) =>
    gradeCorrectness(ctx.task, lm, fulls.map((ids) => ({ problem, ids })));
  const n = ctx.config.rollouts.samples;
  const { temperature, topP, maxNewTokens } = ctx.config.sampling;
  // Prefix lengths 0..T: prefix length L keeps tokens 0..L-1, i.e. position L-1 included.
  const prefixes = Array.from({ length: ids.length + 1 }, (_, L) => ids.slice(0, L));
  const samples = await lm.sample({
    prompts: prefixes.map((prefix) => ({ tokens: prompt, forcedPrefix: prefix })),
    n,
    temperature,
    topP,
    maxNewTokens,
    stopStrings: ctx.task.stopStrings,
    seed: hashSeed(seed, t.trajectory_id, "with"),
  });
  const correctCounts = new Array<number>(prefixes.length).fill(0);
  const verdicts = await correct(
    samples.map((s) => [...prefixes[s.promptIndex], ...stripEos(lm, s.tokens)]),
  );
  samples.forEach((s, k) => {
    if (verdicts[k]) correctCounts[s.promptIndex]++;
  });
  // correctness[i] for response position i is the prefix of length i + 1.
  const correctness = correctCounts.slice(1).map((c) => c / n);
  const critical = rolloutCriticalToken(correctness);
  let withoutCorrect = 0;
  if (critical !== null) {
    const alternatives = await lm.sample({
      prompts: [{
        tokens: prompt,
        forcedPrefix: ids.slice(0, critical),
        maskFirst: [ids[critical]],
      }],
      n,
      temperature,
      topP,
      maxNewTokens,
      stopStrings: ctx.task.stopStrings,
      seed: hashSeed(seed, t.trajectory_id, "without"),
    });
    const fulls = alternatives.map((s) => [...ids.slice(0, critical), ...stripEos(lm, s.tokens)]);
    withoutCorrect = (await correct(fulls)).filter(Boolean).length;
  }
  const rows: RolloutRow[] = correctCounts.map((c, L) => ({
    trajectory_id: t.trajectory_id,
    position: L - 1,
    token: L === 0 ? "" : words[L - 1],
    correctness: c / n,
    samples: n,
    is_critical: critical !== null && L - 1 === critical,
    is_first_error: t.first_error !== null && L - 1 === t.first_error,
  }));
  return {
    rows,
    critical,
    withCorrect: critical === null ? 0 : correctCounts[critical + 1],
    withoutCorrect,
  };
}

/** The incorrect trajectories to search: seeded, preferring those whose first error is known. */
export function rolloutCandidates(
  trajectories: readonly Trajectory[],
  count: number,
  seed: number,
): Trajectory[] {
  const incorrect = trajectories.filter((t) =>
    !t.correct && t.answer !== null && t.stop_reason !== "length"
  );
  const known = incorrect.filter((t) => t.first_error !== null);
  const pool = known.length >= count ? known : incorrect;
  return new Random(hashSeed(seed, "rollout-candidates")).shuffle(pool).slice(0, count);
}

/** The `rollouts` stage. */
export function rolloutsStage(ctx: PipelineContext): StageSpec {
  return {
    name: "rollouts",
    inputs: { rollouts: ctx.config.rollouts, seed: ctx.config.seed },
    after: ["sample"],
    outputs: [ctx.run.rollouts, ctx.run.passk],
    run: async (workDir) => {
      const lm = await ctx.model(ctx.policy.dir);
      const trajectories = readParquetRows<Trajectory>(ctx.run.trajectories);
      const chosen = rolloutCandidates(
        trajectories,
        ctx.config.rollouts.trajectories,
        ctx.config.seed,
      );
      const results = await mapChunks(
        workDir,
        "rollouts",
        chosen,
        1,
        async ([t]) => [await rolloutTrajectory(lm, ctx, t, ctx.config.seed)],
        ctx.progress,
        "rollouts: trajectories",
      );
      const rows = results.flatMap((r) => r.rows);
      await writeParquetAtomic(ctx.run.rollouts, rows, [
        "trajectory_id",
        "position",
        "token",
        "correctness",
        "samples",
        "is_critical",
        "is_first_error",
      ]);
      const found = results.filter((r) => r.critical !== null);
      const n = ctx.config.rollouts.samples;
      const ks = powersOfTwoUpTo(n);
      const passk: PassKRow[] = found.length === 0 ? [] : (() => {
        const withK = meanPassAtK(n, found.map((r) => r.withCorrect), ks);
        const withoutK = meanPassAtK(n, found.map((r) => r.withoutCorrect), ks);
        return ks.map((k, i) => ({
          k,
          with_critical: 100 * withK[i],
          without_critical: 100 * withoutK[i],
        }));
      })();
      await writeParquetAtomic(ctx.run.passk, passk, ["k", "with_critical", "without_critical"]);
      await writeFileAtomic(
        `${workDir}/summary.json`,
        JSON.stringify({ searched: results.length, found: found.length }),
      );
      const at = (k: number) => passk.find((p) => p.k === k);
      ctx.progress.log(
        `rollouts: critical token in ${found.length}/${results.length} trajectories; pass@1 with ` +
          `${at(1)?.with_critical.toFixed(1) ?? "-"}% vs without ${
            at(1)?.without_critical.toFixed(1) ?? "-"
          }%`,
      );
    },
  };
}
