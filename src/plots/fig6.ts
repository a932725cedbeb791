/**
 * Figure 6: the policy's summed log-probability of the chosen (solid) and rejected (dashed)
 * responses, and of the rejected responses' critical tokens alone (dotted), per training step,
 * for the methods the method table marks (DPO, RPO and cDPO). Measured on a fixed held-out set
 * of pairs every few steps (the `eval_` metrics), as a mean over seeds with a band from the
 * lowest to the highest seed. Runs made before held-out measurement fall back to the training
 * batch's log-probs (the `logp_` metrics, a different batch every step), as they are labelled.
 *
 * @module
 */
import { METHODS } from "../method/methods.ts";
import type { MetricRow } from "../run/schema.ts";
import { Figure } from "./figure.ts";
import { baseLayout } from "./layout.ts";

/** The methods of Figure 6 (the method table's choice) with their labels and colours. */
export const FIG6_METHODS = METHODS.filter((m) => m.figure6).map((m) => ({
  method: m.name,
  label: m.label,
  colour: m.colour,
}));

/** A quantity over steps: its mean over seeds and the band from the lowest to the highest seed. */
export interface SeedBand {
  mean: number[];
  low: number[];
  high: number[];
}

/** One method's curves. */
export interface LogpCurve {
  method: string;
  seeds: number[];
  /** `heldout`: the fixed held-out pairs; `batch`: each step's training batch (older runs). */
  source: "heldout" | "batch";
  step: number[];
  chosen: SeedBand;
  rejected: SeedBand;
  /** The rejected responses' critical tokens alone (held-out runs only). */
  critical: SeedBand | null;
}

const KEYS = {
  heldout: ["eval_logp_chosen", "eval_logp_rejected", "eval_logp_critical"],
  batch: ["logp_chosen", "logp_rejected", null],
} as const;

function band(rows: readonly MetricRow[], steps: number[], key: keyof MetricRow): SeedBand {
  const out: SeedBand = { mean: [], low: [], high: [] };
  for (const step of steps) {
    const values = rows.filter((r) => r.step === step).map((r) => r[key] as number | null)
      .filter((v): v is number => v !== null && v !== undefined && Number.isFinite(v));
    out.mean.push(values.reduce((s, v) => s + v, 0) / values.length);
    out.low.push(Math.min(...values));
    out.high.push(Math.max(...values));
  }
  return out;
}

/** The Figure 6 curves present in `metrics` (methods without any log-prob are left out). */
export function logpCurves(metrics: readonly MetricRow[]): LogpCurve[] {
  const curves: LogpCurve[] = [];
  for (const { method } of FIG6_METHODS) {
    const mine = metrics.filter((r) => r.method === method);
    const has = (key: keyof MetricRow) =>
      mine.filter((r) => r[key] !== null && r[key] !== undefined);
    const source = has("eval_logp_chosen").length > 0 ? "heldout" : "batch";
    const [chosenKey, rejectedKey, criticalKey] = KEYS[source];
    const rows = has(chosenKey);
    if (rows.length === 0) continue;
    // Steps every seed measured, so each point is a mean over the same seeds.
    const seeds = [...new Set(rows.map((r) => r.seed))].sort((a, b) => a - b);
    const steps = [...new Set(rows.map((r) => r.step))].sort((a, b) => a - b)
      .filter((s) => seeds.every((seed) => rows.some((r) => r.seed === seed && r.step === s)));
    curves.push({
      method,
      seeds,
      source,
      step: steps,
      chosen: band(rows, steps, chosenKey),
      rejected: band(rows, steps, rejectedKey),
      critical: criticalKey ? band(rows, steps, criticalKey) : null,
    });
  }
  return curves;
}

/** Figure 6 from the metrics table. */
export function figure6(metrics: readonly MetricRow[]): Figure {
  const data: Record<string, unknown>[] = [];
  const curves = logpCurves(metrics);
  const sides = [
    ["chosen", "solid"],
    ["rejected", "dash"],
    ["critical", "dot"],
  ] as const;
  for (const curve of curves) {
    const { label, colour } = FIG6_METHODS.find((m) => m.method === curve.method)!;
    for (const [side, dash] of sides) {
      const values = curve[side];
      if (!values) continue;
      const name = side === "critical" ? `${label} rejected critical tokens` : `${label} ${side}`;
      if (curve.seeds.length > 1 && curve.step.length > 1) {
        // The band: the highest seed, then the lowest filled up to it.
        const edge = (y: readonly number[], fill: boolean) => ({
          type: "scatter",
          mode: "lines",
          x: curve.step,
          y,
          ...(fill ? { fill: "tonexty", fillcolor: `${colour}22` } : {}),
          line: { width: 0, color: colour },
          legendgroup: curve.method,
          showlegend: false,
          hoverinfo: "skip",
        });
        data.push(edge(values.high, false), edge(values.low, true));
      }
      data.push({
        type: "scatter",
        // A curve of one point has no line to draw: show it as a marker.
        mode: curve.step.length === 1 ? "markers" : "lines",
        name,
        legendgroup: curve.method,
        x: curve.step,
        y: values.mean,
        line: { color: colour, width: 2.5, dash },
        marker: { color: colour, size: 9 },
        hovertemplate: `${name} (mean of ${curve.seeds.length} seed${
          curve.seeds.length === 1 ? "" : "s"
        })<br>step %{x}: %{y:.2f} nats<extra></extra>`,
      });
    }
  }
  const heldout = curves.some((c) => c.source === "heldout");
  const layout = baseLayout({
    title: heldout
      ? "Figure 6: log-probability of held-out pairs<br>" +
        "chosen (solid), rejected (dashed), the rejected critical tokens (dotted)"
      : "Figure 6: log-probability of training-batch responses<br>" +
        "chosen (solid) and rejected (dashed)",
    xTitle: "training step",
    yTitle: "summed log-prob under the policy (nats)",
  });
  // Two title lines need room above the plot.
  layout.margin = { ...(layout.margin as object), t: 100 };
  // Steps are integers: a short run would otherwise get ticks at half steps.
  const lastStep = Math.max(0, ...curves.flatMap((c) => c.step));
  if (lastStep <= 10) layout.xaxis = { ...(layout.xaxis as object), dtick: 1 };
  return new Figure("fig6", { data, layout });
}
