/**
 * Figure 6: the policy's summed log-probability of the chosen (solid) and rejected (dashed)
 * responses per training step, for DPO, RPO and cDPO (one colour per method).
 *
 * @module
 */
import type { MetricRow } from "../pipeline/schema.ts";
import { Figure } from "./figure.ts";
import { baseLayout } from "./layout.ts";

/** The methods of Figure 6 with their labels and colours. */
export const FIG6_METHODS = [
  { method: "dpo", label: "DPO", colour: "#7f8c8d" },
  { method: "rpo", label: "RPO", colour: "#d68910" },
  { method: "cdpo", label: "cDPO", colour: "#1e8449" },
] as const;

/** One method's curve: the smallest seed's steps with both log-probs logged. */
export interface LogpCurve {
  method: string;
  seed: number;
  step: number[];
  chosen: (number | null)[];
  rejected: (number | null)[];
}

/** The Figure 6 curves present in `metrics` (methods without any log-prob are left out). */
export function logpCurves(metrics: readonly MetricRow[]): LogpCurve[] {
  const curves: LogpCurve[] = [];
  for (const { method } of FIG6_METHODS) {
    const rows = metrics.filter((r) =>
      r.method === method && (r.logp_chosen !== null || r.logp_rejected !== null)
    );
    if (rows.length === 0) continue;
    // Seed 0 when present, else the smallest: one representative run, not a mix of seeds.
    const seed = Math.min(...rows.map((r) => r.seed));
    const mine = rows.filter((r) => r.seed === seed).sort((a, b) => a.step - b.step);
    curves.push({
      method,
      seed,
      step: mine.map((r) => r.step),
      chosen: mine.map((r) => r.logp_chosen),
      rejected: mine.map((r) => r.logp_rejected),
    });
  }
  return curves;
}

/** Figure 6 from the metrics table. */
export function figure6(metrics: readonly MetricRow[]): Figure {
  const data: Record<string, unknown>[] = [];
  const curves = logpCurves(metrics);
  for (const curve of curves) {
    const { label, colour } = FIG6_METHODS.find((m) => m.method === curve.method)!;
    for (const side of ["chosen", "rejected"] as const) {
      data.push({
        type: "scatter",
        // A curve of one logged step is a point: a line alone would draw nothing.
        mode: curve.step.length === 1 ? "lines+markers" : "lines",
        name: `${label} ${side}`,
        legendgroup: curve.method,
        x: curve.step,
        y: curve[side],
        connectgaps: true,
        line: { color: colour, width: 2.5, dash: side === "chosen" ? "solid" : "dash" },
        hovertemplate:
          `${label} ${side} (seed ${curve.seed})<br>step %{x}: %{y:.2f} nats<extra></extra>`,
      });
    }
  }
  const layout = baseLayout({
    title: "Figure 6: log-probability of chosen (solid) and rejected (dashed) responses",
    xTitle: "training step",
    yTitle: "summed log-prob under the policy (nats)",
  });
  // Steps are integers: a short run would otherwise get ticks at half steps.
  const lastStep = Math.max(0, ...curves.flatMap((c) => c.step));
  if (lastStep <= 10) layout.xaxis = { ...(layout.xaxis as object), dtick: 1 };
  return new Figure("fig6", { data, layout });
}
