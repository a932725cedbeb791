/**
 * Contrastive estimation done live in a notebook (method.md section 3): the run's positive and
 * negative models score a few rejected trajectories of its preference pairs, token by token,
 * with the method's own {@linkcode scoreTokens}; the result is compared with the stored
 * data/token_scores.parquet.
 *
 * @module
 */
import { readJsonl } from "../io/jsonl.ts";
import { Random } from "../random.ts";
import { argmin, scoreTokens, tokenScoreRows } from "../method/mod.ts";
import type { TokenScoreRow } from "../run/schema.ts";
import { escapeHtml } from "../plots/html_escape.ts";
import { tokenHeatmap, type TokenView } from "../plots/token_heatmap.ts";
import { fixed, type TextTable, toHtmlTable, toPlainText } from "../report/table_text.ts";
import type { NotebookRun } from "./notebook_run.ts";

/** Options of {@linkcode liveTokenScores}. */
export interface LiveScoreOptions {
  /** Rejected trajectories to score. @default {3} */
  count?: number;
  /** beta of s_t = softmax((1 + beta) z_pos − beta z_neg). @default {the run's contrastive.beta} */
  beta?: number;
  /** Picks the trajectories. @default {1} */
  seed?: number;
}

/** One scored trajectory. */
export interface ScoredTrajectory {
  id: string;
  firstError: number | null;
  rows: TokenScoreRow[];
}

/** Scored rejected trajectories: a summary table and one heat map each; renders itself. */
export class ScoredTrajectories {
  constructor(
    readonly items: readonly ScoredTrajectory[],
    readonly beta: number,
    /** Largest |s_t − stored s_t| over the scored tokens; null when none is stored. */
    readonly storedDifference: number | null,
  ) {}

  /** One row per trajectory: where the first error is, where s_t is lowest, and its rank. */
  table(): TextTable {
    return {
      columns: [
        "trajectory",
        "tokens",
        "first error (oracle)",
        "s_t there",
        "its rank by s_t",
        "argmin s_t",
      ],
      rows: this.items.map((it) => {
        const s = it.rows.map((r) => r.s_t);
        const low = argmin(s);
        const fe = it.firstError;
        const rank = fe === null ? "" : String(1 + s.filter((x) => x < s[fe]).length);
        return [
          it.id,
          String(it.rows.length),
          fe === null ? "none" : `${fe}: ${it.rows[fe]?.token ?? "?"}`,
          fe === null ? "" : fixed(s[fe], 4),
          rank,
          `${low}: ${it.rows[low]?.token ?? "?"} (${fixed(s[low], 4)})`,
        ];
      }),
    };
  }

  /** The heat maps, one per trajectory. */
  views(): TokenView[] {
    return this.items.map((it) =>
      tokenHeatmap(it.rows, {
        firstError: it.firstError,
        caption: `s_t of ${it.id} (beta = ${this.beta})`,
      })
    );
  }

  #note(): string {
    const stored = this.storedDifference === null
      ? "No stored scores to compare with."
      : `Largest difference from data/token_scores.parquet: ${
        this.storedDifference.toExponential(2)
      }.`;
    return `rank 1 = the token the contrastive estimate finds most suspicious. ${stored}`;
  }

  /** Notebook display. */
  [Symbol.for("Jupyter.display")](): Record<string, string> {
    return {
      "text/html":
        `<div>${toHtmlTable(this.table(), "Contrastive estimation on rejected trajectories")}` +
        `<p style="font-size:12px;color:#555">${escapeHtml(this.#note())}</p>` +
        this.views().map((v) => v.toHtml()).join("<hr>") + "</div>",
      "text/plain": `${toPlainText(this.table())}\n${this.#note()}\n\n` +
        this.views().map((v) => v.toText()).join("\n\n"),
    };
  }
}

interface Pair {
  rejected_id: string;
  prompt_ids: number[];
  rejected_ids: number[];
}

/** Scores `count` rejected trajectories (known first error preferred) with the run's models, live. */
export async function liveTokenScores(
  run: NotebookRun,
  options: LiveScoreOptions = {},
): Promise<ScoredTrajectories> {
  const beta = options.beta ?? run.config.contrastive.beta;
  const pairs = await readJsonl<Pair>(run.paths.pairs);
  const firstErrors = new Map(
    (run.data.trajectories ?? []).map((t) => [t.trajectory_id, t.first_error]),
  );
  const known = pairs.filter((p) => firstErrors.get(p.rejected_id) != null);
  const pool = known.length >= (options.count ?? 3) ? known : pairs;
  const chosen = new Random(options.seed ?? 1).shuffle(pool).slice(0, options.count ?? 3);
  if (chosen.length === 0) {
    throw new Error(
      `Cannot score: run ${run.name} has no preference pairs (data/pairs.jsonl is empty)`,
    );
  }

  const ctx = await run.context();
  try {
    const [policy, pos, neg] = await Promise.all([
      ctx.model(ctx.policy.dir),
      ctx.model(run.paths.model("sft_pos")),
      ctx.model(run.paths.model("sft_neg")),
    ]);
    const scored = await scoreTokens(
      { policy, pos, neg },
      chosen.map((p) => p.prompt_ids),
      chosen.map((p) => p.rejected_ids),
      beta,
    );
    const stored = new Map(
      (run.data.tokenScores ?? []).map((r) => [`${r.trajectory_id}\u0000${r.position}`, r.s_t]),
    );
    let difference: number | null = null;
    const items = chosen.map((p, i): ScoredTrajectory => {
      const firstError = firstErrors.get(p.rejected_id) ?? null;
      const rows = tokenScoreRows(
        policy,
        { id: p.rejected_id, response: p.rejected_ids, firstError },
        scored[i],
        null,
        true,
      );
      for (const r of rows) {
        const old = stored.get(`${r.trajectory_id}\u0000${r.position}`);
        if (old !== undefined) difference = Math.max(difference ?? 0, Math.abs(old - r.s_t));
      }
      return { id: p.rejected_id, firstError, rows };
    });
    // The stored scores are for the run's beta only.
    return new ScoredTrajectories(
      items,
      beta,
      beta === run.config.contrastive.beta ? difference : null,
    );
  } finally {
    await ctx.close();
  }
}
