/**
 * Figure 5: test accuracy as sampled, after replacing the CE critical token by an alternative
 * and continuing, and after cDPO training, each with a 95% Wilson interval over its n samples.
 *
 * @module
 */
import type { Fig5Row } from "../run/schema.ts";
import { wilsonInterval } from "../stats/wilson.ts";
import { Figure } from "./figure.ts";
import { baseLayout } from "./layout.ts";

/** The bars of Figure 5, in order, with their labels and colours. */
export const FIG5_CONDITIONS = [
  { condition: "sampled", label: "as sampled", colour: "#7f8c8d" },
  { condition: "ce_replaced", label: "CE critical token replaced", colour: "#2471a3" },
  { condition: "cdpo", label: "after cDPO", colour: "#1e8449" },
] as const;

/** Figure 5 from its rows; unknown conditions follow the known ones, in their stored order. */
export function figure5(rows: readonly Fig5Row[]): Figure {
  const known = FIG5_CONDITIONS.map((c) => c.condition as string);
  const ordered = [
    ...FIG5_CONDITIONS.flatMap((c) => rows.filter((r) => r.condition === c.condition)),
    ...rows.filter((r) => !known.includes(r.condition)),
  ];
  const info = (condition: string) => FIG5_CONDITIONS.find((c) => c.condition === condition);
  const intervals = ordered.map((r) => wilsonInterval(r.accuracy / 100, r.n).map((x) => 100 * x));
  const data = [{
    type: "bar",
    name: "accuracy",
    x: ordered.map((r) => info(r.condition)?.label ?? r.condition),
    y: ordered.map((r) => r.accuracy),
    text: ordered.map((r) => `${r.accuracy.toFixed(1)}%<br>n = ${r.n}`),
    textposition: "outside",
    cliponaxis: false,
    marker: { color: ordered.map((r) => info(r.condition)?.colour ?? "#95a5a6") },
    error_y: {
      type: "data",
      symmetric: false,
      array: ordered.map((r, i) => intervals[i][1] - r.accuracy),
      arrayminus: ordered.map((r, i) => r.accuracy - intervals[i][0]),
      color: "#333",
      thickness: 1.5,
      width: 8,
    },
    customdata: intervals,
    hovertemplate:
      "%{x}: %{y:.1f}% (95% interval %{customdata[0]:.1f} to %{customdata[1]:.1f})<extra></extra>",
  }];
  const layout = {
    ...baseLayout({
      title: "Figure 5: accuracy as sampled, with the CE critical token replaced, after cDPO",
      xTitle: "condition",
      yTitle: "accuracy (%)",
      yRange: [0, 110],
    }),
    showlegend: false,
    bargap: 0.45,
  };
  return new Figure("fig5", { data, layout });
}
