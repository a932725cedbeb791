/** The kit's common figure layout: readable titles, labelled axes, legend placement. @module */

/** Options of {@linkcode baseLayout}. */
export interface LayoutOptions {
  title: string;
  xTitle: string;
  yTitle: string;
  /** Log axis with ticks at powers of two (pass@k curves). */
  xLog2?: boolean;
  yRange?: [number, number];
}

/** A Plotly layout with the kit's defaults. */
export function baseLayout(o: LayoutOptions): Record<string, unknown> {
  const layout: Record<string, unknown> = {
    title: { text: o.title, x: 0.5, xanchor: "center", font: { size: 18 } },
    font: { family: "DejaVu Sans, Arial, sans-serif", size: 13 },
    xaxis: { title: { text: o.xTitle }, zeroline: false },
    yaxis: { title: { text: o.yTitle }, zeroline: false, ...(o.yRange ? { range: o.yRange } : {}) },
    legend: { orientation: "h", y: -0.2, x: 0.5, xanchor: "center" },
    margin: { l: 70, r: 30, t: 70, b: 100 },
    paper_bgcolor: "white",
    plot_bgcolor: "white",
  };
  if (o.xLog2) {
    layout.xaxis = {
      ...(layout.xaxis as object),
      type: "log",
      dtick: Math.LOG10E * Math.LN2,
      tickformat: "d",
    };
  }
  return layout;
}
