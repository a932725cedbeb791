/**
 * Figure 1: pass@k against k (log2 axis) for continuations that keep the rollout critical token
 * ("with") and that replace it by an alternative token ("without").
 *
 * @module
 */
import type { PassKRow } from "../run/schema.ts";
import { Figure } from "./figure.ts";
import { baseLayout } from "./layout.ts";

/** Reference points to draw dashed (e.g. the paper's GSM8K values). */
export interface PassKReference {
  label: string;
  /** pass@k in % with the critical token, the same for every k (the paper reports 0). */
  withCritical: number;
  /** Known points of the "without" curve: [k, pass@k in %]. */
  without: readonly (readonly [number, number])[];
  /** The k range the reference covers (its "with" line spans it). */
  kMax: number;
}

const WITH_COLOUR = "#c0392b";
const WITHOUT_COLOUR = "#2471a3";

/** Figure 1 from passk rows (percent), optionally with dashed reference traces. */
export function figure1(rows: readonly PassKRow[], reference?: PassKReference): Figure {
  const sorted = [...rows].sort((a, b) => a.k - b.k);
  const k = sorted.map((r) => r.k);
  const data: Record<string, unknown>[] = [
    {
      type: "scatter",
      mode: "lines+markers",
      name: "without critical token",
      x: k,
      y: sorted.map((r) => r.without_critical),
      line: { color: WITHOUT_COLOUR, width: 3 },
      marker: { size: 8 },
      hovertemplate: "k = %{x}<br>pass@k = %{y:.1f}%<extra>without</extra>",
    },
    {
      type: "scatter",
      mode: "lines+markers",
      name: "with critical token",
      x: k,
      y: sorted.map((r) => r.with_critical),
      line: { color: WITH_COLOUR, width: 3 },
      marker: { size: 8, symbol: "square" },
      hovertemplate: "k = %{x}<br>pass@k = %{y:.1f}%<extra>with</extra>",
    },
  ];
  if (reference) {
    data.push(
      {
        // Only the reported points: a line between them would invent the curve in between.
        type: "scatter",
        mode: "markers",
        name: `${reference.label}: without (k = ${reference.without.map((p) => p[0]).join(", ")})`,
        x: reference.without.map((p) => p[0]),
        y: reference.without.map((p) => p[1]),
        marker: { size: 11, symbol: "circle-open", color: WITHOUT_COLOUR, line: { width: 2 } },
      },
      {
        type: "scatter",
        mode: "lines",
        name: `${reference.label}: with`,
        x: [1, reference.kMax],
        y: [reference.withCritical, reference.withCritical],
        line: { color: WITH_COLOUR, dash: "dash", width: 1.5 },
      },
    );
  }
  const layout = baseLayout({
    title: "Figure 1: pass@k with and without the critical token",
    xTitle: "k (continuations drawn, log₂ scale)",
    yTitle: "pass@k (%)",
    xLog2: true,
    yRange: [-3, 103],
  });
  return new Figure("fig1", { data, layout });
}
