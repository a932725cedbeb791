/**
 * The paper's reported numbers (method.md), for side-by-side comparison in report.md and as
 * reference traces in figures. Llama-3-8B throughout.
 *
 * @module
 */

/** Table 1 of the paper: greedy accuracy in % on GSM8K and MATH500. */
export const PAPER_TABLE1: readonly { method: string; gsm8k: number; math500: number }[] = [
  { method: "base", gsm8k: 56.4, math500: 16.8 },
  { method: "sft", gsm8k: 61.2, math500: 17.2 },
  { method: "dpo", gsm8k: 59.7, math500: 17.0 },
  { method: "tokendpo", gsm8k: 62.3, math500: 17.8 },
  { method: "rpo", gsm8k: 67.5, math500: 18.4 },
  { method: "cdpo", gsm8k: 67.9, math500: 19.6 },
];

/** Figure 1 of the paper: pass@k in % with and without the critical token (100 trajectories). */
export const PAPER_FIGURE1 = {
  gsm8k: { withCritical: 0, withoutAt1: 29.9, withoutAt64: 91.0 },
  math: { withCritical: 0, withoutAt1: 30.5, withoutAt64: 95.0 },
} as const;
