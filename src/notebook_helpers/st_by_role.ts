/**
 * Where contrastive estimation puts low scores: s_t of the tokens before the ground-truth first
 * error, of the first error itself, and of the tokens after it, as box plots on a log axis. If
 * CE finds critical tokens, the middle box sits clearly below the left one.
 *
 * @module
 */
import type { TokenScoreRow, TrajectoryRow } from "../run/schema.ts";
import { Figure } from "../plots/figure.ts";
import { baseLayout } from "../plots/layout.ts";
import { withStatic } from "../plots/static_export.ts";
import type { NotebookRun } from "./notebook_run.ts";
import { MissingView } from "./run_views.ts";

/** The three roles of a token relative to its trajectory's first error, in display order. */
export const TOKEN_ROLES = [
  { role: "before", label: "before the first error", colour: "#58b26c" },
  { role: "first_error", label: "the first error", colour: "#d63031" },
  { role: "after", label: "after the first error", colour: "#7f8c8d" },
] as const;

/** s_t of every scored token with a known first error, grouped by role. */
export function scoresByRole(
  tokenScores: readonly TokenScoreRow[],
  trajectories: readonly TrajectoryRow[],
): Record<(typeof TOKEN_ROLES)[number]["role"], number[]> {
  const firstError = new Map(trajectories.map((t) => [t.trajectory_id, t.first_error]));
  const out = { before: [] as number[], first_error: [] as number[], after: [] as number[] };
  for (const r of tokenScores) {
    const fe = firstError.get(r.trajectory_id);
    if (fe === null || fe === undefined || !Number.isFinite(r.s_t)) continue;
    out[r.position < fe ? "before" : r.position === fe ? "first_error" : "after"].push(r.s_t);
  }
  return out;
}

/** Box plots of s_t by role (log axis; s_t spans orders of magnitude). */
export function stByRoleFigure(
  tokenScores: readonly TokenScoreRow[],
  trajectories: readonly TrajectoryRow[],
): Figure {
  const groups = scoresByRole(tokenScores, trajectories);
  // A log axis cannot show 0; the floor is far below any s_t a float32 softmax gives a real token.
  const floor = 1e-12;
  const data = TOKEN_ROLES.map(({ role, label, colour }) => ({
    type: "box",
    name: `${label} (n = ${groups[role].length})`,
    y: groups[role].map((s) => Math.max(s, floor)),
    marker: { color: colour, size: 3 },
    line: { color: colour },
    boxpoints: groups[role].length <= 300 ? "all" : "outliers",
    jitter: 0.4,
    pointpos: 0,
    hovertemplate: "s_t = %{y:.3g}<extra></extra>",
  }));
  const layout: Record<string, unknown> = {
    ...baseLayout({
      title: "s_t of the tokens of incorrect trajectories, by position relative to the first error",
      xTitle: "token",
      yTitle: "s_t (log scale; low = likely critical)",
    }),
    showlegend: false,
  };
  layout.yaxis = { ...(layout.yaxis as object), type: "log", exponentformat: "power" };
  return new Figure("st_by_role", { data, layout }, { width: 900, height: 480 });
}

/** {@linkcode stByRoleFigure} of a run's stored scores, with a PNG fallback. */
export async function stByRole(run: NotebookRun): Promise<Figure | MissingView> {
  const { tokenScores, trajectories } = run.data;
  if (!tokenScores?.length || !trajectories?.length) {
    return new MissingView(
      "The s_t box plot",
      "the run has no data/token_scores.parquet rows (written by the ce_scores stage)",
    );
  }
  return await withStatic(stByRoleFigure(tokenScores, trajectories));
}
