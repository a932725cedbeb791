/**
 * Table 1: greedy test accuracy of every method, each compared with cDPO on the same
 * (seed, problem) pairs by a paired bootstrap interval and McNemar's exact test.
 *
 * @module
 */
import { pairedBootstrapCI } from "../stats/bootstrap.ts";
import { mcnemarExactP } from "../stats/mcnemar.ts";
import { type EvaluationRow, TABLE1_METHODS } from "../run/schema.ts";
import { fixed, formatP, type TextTable } from "./table_text.ts";

/** Columns of tables/table1.csv, in order. */
export const TABLE1_COLUMNS = ["method", "accuracy", "n", "ci_low", "ci_high", "p_value"] as const;

/** What each column of Table 1 means (shown under the table in report.md). */
export const TABLE1_LEGEND =
  "accuracy: greedy accuracy in %, averaged over every (seed, test problem) of the method; " +
  "n: the number of those outcomes; ci_low, ci_high: 95% paired bootstrap interval of the " +
  "accuracy difference (method − cDPO) in points over the outcomes paired with cDPO's, " +
  "resampling problems (all seeds of a problem together); " +
  "p_value: two-sided McNemar exact test of the method against cDPO on the same pairs " +
  "(it counts each seed's outcome on a problem as a separate pair, so with several seeds it " +
  "overstates significance). " +
  "Pairs match (seed, problem); a method evaluated with one seed only (base) is paired with " +
  "every cDPO seed.";

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
  /** McNemar exact p against cDPO; null for cDPO itself or without pairs. */
  pValue: number | null;
  /** (method − cDPO) accuracy in points on the paired outcomes; null as above. */
  pairedDifference: number | null;
  /** Number of paired outcomes behind the interval and the test. */
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
): { a: boolean[]; b: boolean[]; problems: string[] } {
  const seeds = new Set(method.map((r) => r.seed));
  const single = seeds.size === 1 ? [...seeds][0] : null;
  const byKey = new Map(method.map((r) => [`${r.seed}\u0000${r.problem_id}`, r.correct]));
  // A fixed order (seed, then problem id) keeps the bootstrap's resamples, hence the CSV, stable.
  const ordered = [...reference].sort((x, y) =>
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

/** Table 1 rows for the methods present, in the paper's order (unknown methods are ignored). */
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
        row.pValue = mcnemarExactP(a, b);
      }
    }
    rows.push(row);
  }
  return rows;
}

/** Table 1 as text cells: percentages and points with 2 decimals, p-values per {@linkcode formatP}. */
export function table1Text(rows: readonly Table1Row[]): TextTable {
  return {
    columns: TABLE1_COLUMNS,
    rows: rows.map((r) => [
      r.method,
      fixed(r.accuracy, 2),
      String(r.n),
      fixed(r.ciLow, 2),
      fixed(r.ciHigh, 2),
      formatP(r.pValue),
    ]),
  };
}
