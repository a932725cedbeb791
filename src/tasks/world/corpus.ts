/**
 * Corpora built from world problems: the pretraining corpus (solutions written with the failure
 * modes, so the policy learns them), the clean evaluation prompts, and their JSON Lines form.
 *
 * @example
 * ```ts
 * import { generateSplits, pretrainingCorpus, resolveWorldParams } from "./mod.ts";
 * const params = resolveWorldParams({ pretrainSize: 20, trainSize: 0, testSize: 0 });
 * const corpus = pretrainingCorpus(generateSplits(params, 3).pretrain, params, 3);
 * if (corpus.records.length !== 20) throw new Error("one record per problem");
 * ```
 * @module
 */

import { Random } from "../../random.ts";
import {
  addTallies,
  emptyTallies,
  NOISE_KINDS,
  type NoiseEvent,
  type NoiseKind,
  noiseRate,
  type NoiseTallies,
  noisySolution,
} from "./failure_modes.ts";
import type { WorldParams } from "./params.ts";
import type { WorldProblem } from "./problem.ts";
import { renderSolution } from "./solution.ts";
import { worldTokens } from "./text.ts";

/** One training example: the question as prompt, a (possibly wrong) solution as response. */
export interface CorpusRecord {
  id: string;
  prompt: string;
  response: string;
}

/** The realised rates of the failure modes in a corpus, for a stage to log. */
export interface NoiseReport {
  problems: number;
  /** Problems whose response contains at least one error. */
  noisyProblems: number;
  tallies: NoiseTallies;
  /** Per mode: the configured rate and the realised one (applied / opportunities, 0 if none). */
  rates: Record<NoiseKind, { configured: number; realised: number }>;
}

/** The pretraining corpus and what noise went into it. */
export interface PretrainingCorpus {
  records: CorpusRecord[];
  /** `events[i]` lists the errors written into `records[i].response`, in step order. */
  events: NoiseEvent[][];
  report: NoiseReport;
}

/** A clean evaluation item: the prompt and the answer a correct response reaches. */
export interface EvaluationItem {
  id: string;
  prompt: string;
  answer: number;
}

/** Length statistics of a corpus, in world tokens. */
export interface CorpusStats {
  records: number;
  meanPromptTokens: number;
  meanResponseTokens: number;
  maxPromptTokens: number;
  maxResponseTokens: number;
}

/**
 * The pretraining corpus of `problems`: each response is the problem's solution written with the
 * failure modes at `params`' rates. Record i draws from its own stream derived from `seed` and the
 * problem id, so a record does not change when others are added or removed.
 */
export function pretrainingCorpus(
  problems: readonly WorldProblem[],
  params: WorldParams,
  seed: number,
): PretrainingCorpus {
  const tallies = emptyTallies();
  const records: CorpusRecord[] = [];
  const events: NoiseEvent[][] = [];
  let noisyProblems = 0;
  for (const problem of problems) {
    const noisy = noisySolution(
      problem,
      params,
      Random.derive(seed, "pretraining-corpus", problem.id),
    );
    records.push({
      id: problem.id,
      prompt: problem.question,
      response: renderSolution(noisy.solution),
    });
    events.push(noisy.events);
    addTallies(tallies, noisy.tallies);
    if (noisy.events.length > 0) noisyProblems++;
  }
  const rates = Object.fromEntries(NOISE_KINDS.map((kind) => [kind, {
    configured: noiseRate(params, kind),
    realised: tallies[kind].opportunities ? tallies[kind].applied / tallies[kind].opportunities : 0,
  }])) as NoiseReport["rates"];
  return { records, events, report: { problems: problems.length, noisyProblems, tallies, rates } };
}

/** The clean prompts of a split (for evaluation and sampling) with their answers. */
export function evaluationPrompts(problems: readonly WorldProblem[]): EvaluationItem[] {
  return problems.map((p) => ({ id: p.id, prompt: p.question, answer: p.answer }));
}

// The corpus is written as JSON Lines (src/io/jsonl.ts); re-exported as part of the world's API.
export { toJsonl, writeJsonl } from "../../io/jsonl.ts";

/** Token-length statistics of records (zeros for an empty list). */
export function corpusStats(
  records: readonly Pick<CorpusRecord, "prompt" | "response">[],
): CorpusStats {
  let prompt = 0, response = 0, maxPrompt = 0, maxResponse = 0;
  for (const record of records) {
    const p = worldTokens(record.prompt).length;
    const r = worldTokens(record.response).length;
    prompt += p;
    response += r;
    maxPrompt = Math.max(maxPrompt, p);
    maxResponse = Math.max(maxResponse, r);
  }
  const n = records.length;
  return {
    records: n,
    meanPromptTokens: n ? prompt / n : 0,
    meanResponseTokens: n ? response / n : 0,
    maxPromptTokens: maxPrompt,
    maxResponseTokens: maxResponse,
  };
}
