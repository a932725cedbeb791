/** A figure of the pass@k estimator itself: how pass@k grows with k for a few success counts. @module */
import { meanPassAtK, powersOfTwoUpTo } from "../method/pass_at_k.ts";
import { Figure } from "./figure.ts";
import { baseLayout } from "./layout.ts";

/** pass@k against k (log2 axis) for problems with `counts[i]` correct samples of `n`. */
export function passAtKCurves(n: number, counts: readonly number[]): Figure {
  const ks = powersOfTwoUpTo(n);
  const data = counts.map((c) => ({
    type: "scatter",
    mode: "lines+markers",
    name: `${c} of ${n} correct`,
    x: ks,
    y: meanPassAtK(n, [c], ks).map((p) => 100 * p),
  }));
  return new Figure("pass_at_k_estimator", {
    data,
    layout: baseLayout({
      title: `The unbiased pass@k estimator (n = ${n})`,
      xTitle: "k (samples drawn)",
      yTitle: "pass@k (%)",
      xLog2: true,
      yRange: [0, 100],
    }),
  });
}
