/**
 * Table 1: greedy test accuracy of every method, each compared with cDPO. The headline test is
 * problem-level: a paired sign-flip permutation test on per-problem mean outcomes over seeds, so
 * a problem's seeds count once. The interval resamples problems (seeds of a problem together).
 * McNemar's exact test is kept per seed, one column each.
 *
 * @module
 */
import { pairedBootstrapCI } from "../stats/bootstrap.ts";
import { mcnemarExactP } from "../stats/mcnemar.ts";
import { perProblemDifferences, signFlipTest } from "../stats/sign_flip.ts";
import type { EvaluationRow } from "../run/schema.ts";
import { TABLE1_METHODS } from "../method/methods.ts";
import { fixed, formatP, type TextTable } from "./table_text.ts";

/** Columns of tables/table1.csv before the per-seed McNemar columns (`p_mcnemar_s<seed>`). */
export const TABLE1_COLUMNS = ["method", "accuracy", "n", "ci_low", "ci_high", "p_value"] as const;

/** What each column of Table 1 means (shown under the table in report.md). */
export const TABLE1_LEGEND =
  "accuracy: greedy accuracy in %, averaged over every (seed, test problem) of the method; " +
  "n: the number of those outcomes; ci_low, ci_high: 95% bootstrap interval of the accuracy " +
  "difference (method − cDPO) in points, resampling problems (all seeds of a problem together); " +
  "p_value: two-sided paired sign-flip permutation test of the method against cDPO on " +
  "per-problem mean outcomes over seeds (exact); p_mcnemar_s<k>: McNemar's exact test against " +
  "cDPO on seed k alone. A method evaluated with one seed only (base) is compared with every " +
  "cDPO seed.";

/** The seed of the paired bootstrap, fixed so that rebuilding the table gives the same bytes. */
export const BOOTSTRAP_SEED = 20241129;

/** One method's row of Table 1. */
export interface Table1Row {
  method: string;
  /** Percent. */
  accuracy: number;
  n: number;
  /** Bootstrap interval of (method − cDPO) in points; null for cDPO itself or without pairs. */
  ciLow: number | null;
  ciHigh: number | null;
  /** Problem-level sign-flip p against cDPO; null for cDPO itself or without pairs. */
  pValue: number | null;
  /** McNemar exact p against cDPO, per cDPO seed (null where that seed has no pairs). */
  mcnemarBySeed: Record<number, number | null>;
  /** (method − cDPO) accuracy in points on the paired outcomes; null as above. */
  pairedDifference: number | null;
  /** Number of paired outcomes behind the interval. */
  pairs: number;
}

/**
 * Pairs a method's outcomes with cDPO's. Each cDPO outcome (seed s, problem p) is matched with
 * the method's (s, p); a method with a single seed (the base model is deterministic under greedy
 * decoding) is matched at (its seed, p) for every cDPO seed. Unmatched outcomes are left out.
 */
export function pairWithReference(
  method: readonly EvaluationRow[],
  reference: readonly EvaluationRow[],
  onlySeed?: number,
): { a: boolean[]; b: boolean[]; problems: string[] } {
  const seeds = new Set(method.map((r) => r.seed));
  const single = seeds.size === 1 ? [...seeds][0] : null;
  const byKey = new Map(method.map((r) => [`${r.seed}\u0000${r.problem_id}`, r.correct]));
  // A fixed order (seed, then problem id) keeps the bootstrap's resamples, hence the CSV, stable.
  const ordered = [...reference].filter((r) => onlySeed === undefined || r.seed === onlySeed)
    .sort((x, y) =>
      x.seed - y.seed || (x.problem_id < y.problem_id ? -1 : x.problem_id > y.problem_id ? 1 : 0)
    );
  const a: boolean[] = [], b: boolean[] = [], problems: string[] = [];
  for (const r of ordered) {
    const seed = single ?? r.seed;
    const outcome = byKey.get(`${seed}\u0000${r.problem_id}`);
    if (outcome === undefined) continue;
    a.push(Boolean(outcome));
    b.push(Boolean(r.correct));
    problems.push(r.problem_id);
  }
  return { a, b, problems };
}

/** The seeds of cDPO's outcomes, ascending (the per-seed McNemar columns). */
export function referenceSeeds(evaluation: readonly EvaluationRow[]): number[] {
  return [...new Set(evaluation.filter((r) => r.method === "cdpo").map((r) => r.seed))].sort((
    a,
    b,
  ) => a - b);
}

/** Table 1 rows for the methods present, in the method table's order (unknown methods are ignored). */
export function computeTable1(
  evaluation: readonly EvaluationRow[],
  options: { resamples?: number } = {},
): Table1Row[] {
  const byMethod = new Map<string, EvaluationRow[]>();
  for (const r of evaluation) {
    const list = byMethod.get(r.method) ?? [];
    list.push(r);
    byMethod.set(r.method, list);
  }
  const reference = byMethod.get("cdpo") ?? [];
  const seeds = referenceSeeds(evaluation);
  const rows: Table1Row[] = [];
  for (const method of TABLE1_METHODS) {
    const outcomes = byMethod.get(method);
    if (!outcomes || outcomes.length === 0) continue;
    const correct = outcomes.filter((r) => r.correct).length;
    const row: Table1Row = {
      method,
      accuracy: (100 * correct) / outcomes.length,
      n: outcomes.length,
      ciLow: null,
      ciHigh: null,
      pValue: null,
      mcnemarBySeed: {},
      pairedDifference: null,
      pairs: 0,
    };
    if (method !== "cdpo" && reference.length > 0) {
      const { a, b, problems } = pairWithReference(outcomes, reference);
      row.pairs = a.length;
      if (a.length > 0) {
        // Seeds evaluated on the same problem are resampled together (one cluster per problem).
        const ci = pairedBootstrapCI(a, b, {
          seed: BOOTSTRAP_SEED,
          resamples: options.resamples,
          clusters: problems,
        });
        row.ciLow = ci.low;
        row.ciHigh = ci.high;
        row.pairedDifference = ci.difference;
        const outcome = (r: EvaluationRow) => ({
          problem: r.problem_id,
          correct: Boolean(r.correct),
        });
        row.pValue = signFlipTest(
          perProblemDifferences(outcomes.map(outcome), reference.map(outcome)),
        ).p;
        for (const seed of seeds) {
          const perSeed = pairWithReference(outcomes, reference, seed);
          row.mcnemarBySeed[seed] = perSeed.a.length > 0
            ? mcnemarExactP(perSeed.a, perSeed.b)
            : null;
        }
      }
    }
    rows.push(row);
  }
  return rows;
}

/**
 * Table 1 as text cells: percentages and points with 2 decimals, p-values per
 * {@linkcode formatP}, one `p_mcnemar_s<seed>` column per cDPO seed.
 */
export function table1Text(rows: readonly Table1Row[], seeds: readonly number[]): TextTable {
  return {
    columns: [...TABLE1_COLUMNS, ...seeds.map((s) => `p_mcnemar_s${s}`)],
    rows: rows.map((r) => [
      r.method,
      fixed(r.accuracy, 2),
      String(r.n),
      fixed(r.ciLow, 2),
      fixed(r.ciHigh, 2),
      formatP(r.pValue),
      ...seeds.map((s) => formatP(r.mcnemarBySeed[s] ?? null)),
    ]),
  };
}
