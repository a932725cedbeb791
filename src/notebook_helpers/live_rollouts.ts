/**
 * Rollouts done live in a notebook (method.md section 2): for a few incorrect trajectories of a
 * run (preferring those whose first error the world's oracle knows), the share of correct continuations from every
 * prefix, drawn with the run's policy by the method's own {@linkcode rolloutTrajectory}.
 *
 * @module
 */
import { hashSeed } from "../random.ts";
import { readParquetRows } from "../io/parquet.ts";
import type { RolloutRow } from "../run/schema.ts";
import { rolloutCandidates, rolloutTrajectory, type Trajectory } from "../method/mod.ts";
import { escapeHtml } from "../plots/html_escape.ts";
import { rolloutHeatmap, type TokenView } from "../plots/token_heatmap.ts";
import { type TextTable, toHtmlTable, toPlainText } from "../report/table_text.ts";
import type { NotebookRun } from "./notebook_run.ts";

/** Options of {@linkcode liveRollouts}. */
export interface LiveRolloutOptions {
  /** Incorrect trajectories to roll out. @default {3} */
  count?: number;
  /** Continuations per prefix (and "without" samples). @default {the run's rollouts.samples} */
  samples?: number;
  /** Picks the trajectories and seeds the sampling. @default {1} */
  seed?: number;
  /** Longest response considered (rollouts cost grows with its length). @default {40} */
  maxTokens?: number;
}

/** One rolled-out trajectory. */
export interface RolloutExample {
  trajectory: Trajectory;
  rows: RolloutRow[];
  /** The rollout rule's critical token, or null when no position satisfies it. */
  critical: number | null;
  /** Correct continuations out of `samples` with the critical token kept / replaced. */
  withCorrect: number;
  withoutCorrect: number;
  samples: number;
}

/** Rolled-out trajectories: a summary table and one heat map each; renders itself. */
export class RolloutExamples {
  constructor(readonly examples: readonly RolloutExample[], readonly seconds: number) {}

  /** One row per trajectory: the oracle's first error next to the rollout critical token. */
  table(): TextTable {
    const at = (e: RolloutExample, p: number | null) =>
      p === null ? "none" : `${p}: ${e.trajectory.response.split(" ")[p] ?? "?"}`;
    const c = (e: RolloutExample, p: number | null) =>
      p === null
        ? ""
        : `${Math.round(100 * (e.rows.find((r) => r.position === p)?.correctness ?? NaN))}%`;
    return {
      columns: [
        "trajectory",
        "tokens",
        "first error (oracle)",
        "rollout critical token",
        "c before first error",
        "c at first error",
        "with critical",
        "without critical",
      ],
      rows: this.examples.map((e) => {
        const fe = e.trajectory.first_error;
        return [
          e.trajectory.trajectory_id,
          String(e.trajectory.n_tokens),
          at(e, fe),
          at(e, e.critical),
          fe === null ? "" : c(e, fe - 1),
          c(e, fe),
          e.critical === null ? "" : `${e.withCorrect}/${e.samples}`,
          e.critical === null ? "" : `${e.withoutCorrect}/${e.samples}`,
        ];
      }),
    };
  }

  /** The heat maps, one per trajectory. */
  views(): TokenView[] {
    return this.examples.map((e) => rolloutHeatmap(e.rows));
  }

  #legend(): string {
    return `c: share of the continuations from the prefix ending at that token that reach the correct answer ` +
      `(position −1 is the bare prompt). with / without: correct continuations out of ${
        this.examples[0]?.samples ?? 0
      } when the critical token is kept / replaced by another token. ${this.seconds.toFixed(1)} s.`;
  }

  /** Notebook display. */
  [Symbol.for("Jupyter.display")](): Record<string, string> {
    return {
      "text/html":
        `<div>${
          toHtmlTable(this.table(), "Rollouts: oracle first error vs rollout critical token")
        }` +
        `<p style="font-size:12px;color:#555">${escapeHtml(this.#legend())}</p>` +
        this.views().map((v) => v.toHtml()).join("<hr>") + "</div>",
      "text/plain": `${toPlainText(this.table())}\n${this.#legend()}\n\n` +
        this.views().map((v) => v.toText()).join("\n\n"),
    };
  }
}

/** Rolls out `count` incorrect trajectories of `run` with a known first error, live. */
export async function liveRollouts(
  run: NotebookRun,
  options: LiveRolloutOptions = {},
): Promise<RolloutExamples> {
  const started = performance.now();
  const count = options.count ?? 3;
  const seed = options.seed ?? 1;
  const maxTokens = options.maxTokens ?? 40;
  const samples = options.samples ?? run.config.rollouts.samples;
  const ctx = await run.context();
  try {
    const trajectories = readParquetRows<Trajectory>(run.paths.trajectories).filter((t) =>
      t.split === "train" && t.n_tokens <= maxTokens
    );
    const chosen = rolloutCandidates(trajectories, count, hashSeed(seed, "notebook-rollouts"));
    if (chosen.length === 0) {
      throw new Error(
        `Cannot roll out: run ${run.name} has no finished incorrect train trajectory with at most ${maxTokens} tokens (raise maxTokens)`,
      );
    }
    const lm = await ctx.model(ctx.policy.dir);
    const examples: RolloutExample[] = [];
    for (const t of chosen) {
      const { temperature, topP, maxNewTokens } = run.config.sampling;
      const r = await rolloutTrajectory(lm, ctx.task, ctx.problem(t.problem_id), t, {
        samples,
        temperature,
        topP,
        maxNewTokens,
        seed,
      });
      examples.push({ trajectory: t, ...r, samples });
    }
    return new RolloutExamples(examples, (performance.now() - started) / 1000);
  } finally {
    await ctx.close();
  }
}
