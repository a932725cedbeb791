/**
 * The interpretation paragraph of report.md, written from the numbers: every sentence is a
 * template chosen by comparing values, so the text cannot claim what the data do not show.
 *
 * @module
 */
import type { Fig5Row, PassKRow } from "../run/schema.ts";
import type { LogpCurve } from "../plots/fig6.ts";
import type { DetectorResults, DetectorRow } from "../method/detectors.ts";
import { methodLabel } from "../method/methods.ts";
import type { Table1Row } from "./table1.ts";
import { fixed, formatP } from "./table_text.ts";

/** The significance level the sentences use. */
export const SIGNIFICANCE_LEVEL = 0.05;

/** A gap (points) between the pass@k curves at the largest k that counts as "far above". */
export const FAR_ABOVE_POINTS = 20;

/** An AUROC within this distance of 0.5 is described as chance level. */
export const CHANCE_BAND = 0.1;

/** What the paragraph is written from; any part may be absent. */
export interface InterpretationInputs {
  table1: readonly Table1Row[] | null;
  passk: readonly PassKRow[] | null;
  detectors: DetectorResults | null;
  fig5: readonly Fig5Row[] | null;
  logp: readonly LogpCurve[] | null;
}

const label = (method: string) => methodLabel(method);
const pct = (fraction: number) => `${fixed(100 * fraction, 1)}%`;

function table1Sentences(rows: readonly Table1Row[]): string[] {
  const out: string[] = [];
  const cdpo = rows.find((r) => r.method === "cdpo");
  if (cdpo) {
    out.push(`cDPO reaches ${fixed(cdpo.accuracy, 1)}% greedy accuracy (n = ${cdpo.n}).`);
    for (const method of ["dpo", "rpo", "base"]) {
      const r = rows.find((x) => x.method === method);
      if (!r || r.pairedDifference === null || r.pValue === null) continue;
      const gap = -r.pairedDifference; // cDPO − method, in points, on the paired outcomes
      const where = gap > 0 ? "above" : gap < 0 ? "below" : "level with";
      const amount = gap === 0 ? "" : `${fixed(Math.abs(gap), 1)} points `;
      const significant = r.pValue < SIGNIFICANCE_LEVEL
        ? `significant at the ${SIGNIFICANCE_LEVEL} level`
        : `not significant at the ${SIGNIFICANCE_LEVEL} level`;
      out.push(
        `On the ${r.pairs} paired outcomes cDPO is ${amount}${where} ${label(method)} ` +
          `(problem-level p = ${formatP(r.pValue)}, ${significant}; 95% CI of ${
            label(method)
          } − cDPO ` +
          `[${fixed(r.ciLow, 1)}, ${fixed(r.ciHigh, 1)}] points).`,
      );
    }
  }
  if (rows.length > 1) {
    const best = Math.max(...rows.map((r) => r.accuracy));
    const top = rows.filter((r) => r.accuracy === best).map((r) => label(r.method));
    out.push(
      top.length === 1
        ? `The most accurate method is ${top[0]} (${fixed(best, 1)}%).`
        : `${top.join(" and ")} tie for the highest accuracy (${fixed(best, 1)}%).`,
    );
  }
  return out;
}

function passkSentences(rows: readonly PassKRow[]): string[] {
  if (rows.length === 0) return [];
  const sorted = [...rows].sort((a, b) => a.k - b.k);
  const first = sorted[0], last = sorted[sorted.length - 1];
  const gap = last.without_critical - last.with_critical;
  const relation = gap >= FAR_ABOVE_POINTS
    ? "is far above"
    : gap > 0
    ? `is above, but by less than ${FAR_ABOVE_POINTS} points,`
    : "is not above";
  return [
    `In Figure 1 the "without critical token" curve ${relation} the "with" curve at k = ${last.k} ` +
    `(${fixed(last.without_critical, 1)}% vs ${
      fixed(last.with_critical, 1)
    }%; at k = ${first.k}: ` +
    `${fixed(first.without_critical, 1)}% vs ${fixed(first.with_critical, 1)}%).`,
  ];
}

function detectorSentences(d: DetectorResults): string[] {
  const out: string[] = [];
  // Every kind pooled, with out-of-sample scores when the run has them.
  const sample = d.rows.some((r) => r.sample === "out") ? "out" : "in";
  const find = (name: string) =>
    d.rows.find((r) => r.detector === name && r.kind === "all" && r.sample === sample && r.n > 0);
  const ce = find("ce_argmin");
  const baselines = [find("random"), find("min_policy_prob")].filter((r): r is DetectorRow => !!r);
  if (ce && baselines.length > 0) {
    const beaten = baselines.filter((b) => ce.top1 > b.top1);
    const values = baselines.map((b) => `${b.detector} ${pct(b.top1)}`).join(", ");
    const verdict = beaten.length === baselines.length
      ? (baselines.length === 1 ? "is above the baseline" : "is above both baselines")
      : beaten.length === 0
      ? "is not above the baselines"
      : `is above ${beaten.map((b) => b.detector).join(", ")} only`;
    out.push(
      `CE's top-1 hit rate on the first error (${pct(ce.top1)}, n = ${ce.n}, ${
        sample === "out" ? "out of sample" : "in sample"
      }) ${verdict} (${values}).`,
    );
  }
  const rollout = find("rollout");
  if (rollout) {
    const vsCe = ce
      ? rollout.top1 > ce.top1
        ? ", above CE's"
        : rollout.top1 < ce.top1
        ? ", below CE's"
        : ", equal to CE's"
      : "";
    out.push(
      `The rollout rule's top-1 hit rate is ${pct(rollout.top1)} (n = ${rollout.n})${vsCe}.`,
    );
  }
  if (d.ceVsRolloutAuroc !== null) {
    const a = d.ceVsRolloutAuroc;
    const how = a >= 0.5 + CHANCE_BAND
      ? "ranks rollout critical tokens above the other tokens"
      : a <= 0.5 - CHANCE_BAND
      ? "ranks rollout critical tokens below the other tokens"
      : "separates rollout critical tokens from the others no better than chance";
    out.push(
      `Low s_t ${how} (AUROC ${fixed(a, 3)} over ${d.ceVsRolloutTokens} tokens; 0.5 is chance).`,
    );
  }
  return out;
}

function fig5Sentences(rows: readonly Fig5Row[]): string[] {
  const get = (c: string) => rows.find((r) => r.condition === c);
  const sampled = get("sampled");
  if (!sampled) return [];
  const out: string[] = [];
  const compare = (other: Fig5Row | undefined, what: string) => {
    if (!other) return;
    if (other.accuracy === sampled.accuracy) {
      out.push(`${what} leaves accuracy at ${fixed(sampled.accuracy, 1)}%, as sampled.`);
      return;
    }
    const verb = other.accuracy > sampled.accuracy ? "raises" : "lowers";
    out.push(
      `${what} ${verb} accuracy from ${fixed(sampled.accuracy, 1)}% as sampled to ${
        fixed(other.accuracy, 1)
      }%.`,
    );
  };
  compare(get("ce_replaced"), "Replacing the CE critical token and continuing");
  compare(get("cdpo"), "cDPO training");
  return out;
}

/** Change from the first to the last logged value (null when fewer than one value). */
function change(values: readonly (number | null)[]): number | null {
  const v = values.filter((x): x is number => x !== null && Number.isFinite(x));
  return v.length === 0 ? null : v[v.length - 1] - v[0];
}

function signed(x: number): string {
  return `${x > 0 ? "+" : x < 0 ? "−" : ""}${fixed(Math.abs(x), 2)}`;
}

function logpSentences(curves: readonly LogpCurve[]): string[] {
  const deltas = curves
    .map((c) => ({
      method: c.method,
      chosen: change(c.chosen.mean),
      rejected: change(c.rejected.mean),
    }))
    .filter((d) => d.chosen !== null && d.rejected !== null) as {
      method: string;
      chosen: number;
      rejected: number;
    }[];
  if (deltas.length === 0) return [];
  const parts = deltas.map((d) =>
    `${label(d.method)} chosen ${signed(d.chosen)}, rejected ${signed(d.rejected)}`
  );
  const out = [
    `From the first to the last logged step the summed log-probs ${
      curves.some((c) => c.source === "heldout") ? "of the held-out pairs " : ""
    }change by (nats, mean over seeds): ${parts.join("; ")}.`,
  ];
  const cdpo = deltas.find((d) => d.method === "cdpo");
  if (cdpo && deltas.length > 1) {
    const others = deltas.filter((d) => d !== cdpo);
    const most = others.every((o) => cdpo.rejected < o.rejected);
    out.push(
      most
        ? "cDPO lowers the rejected log-prob the most, as the paper expects."
        : "cDPO does not lower the rejected log-prob the most, unlike the paper's Figure 6.",
    );
  }
  return out;
}

/** The paragraph's sentences (empty when nothing was measured). */
export function interpretationSentences(inputs: InterpretationInputs): string[] {
  return [
    ...(inputs.table1 ? table1Sentences(inputs.table1) : []),
    ...(inputs.passk ? passkSentences(inputs.passk) : []),
    ...(inputs.detectors ? detectorSentences(inputs.detectors) : []),
    ...(inputs.fig5 ? fig5Sentences(inputs.fig5) : []),
    ...(inputs.logp ? logpSentences(inputs.logp) : []),
  ];
}
