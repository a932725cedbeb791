/**
 * Seeded generation of world problems and of disjoint pretrain / train / test splits.
 *
 * Every problem is drawn by rejection sampling so that every amount stays in [1, maxValue] and
 * every division comes out even, not only on the canonical path but also when any single step is
 * confused with its partner operation (add/subtract, multiply/divide) and the later steps are
 * then applied correctly to the wrong amount. Because all four operations are injective in the
 * running amount, such a path always ends on a different answer: an error always changes the
 * answer, and the corpus can render any confusion with whole numbers.
 *
 * @example
 * ```ts
 * import { generateSplits } from "./generator.ts";
 * import { resolveWorldParams } from "./params.ts";
 * const params = resolveWorldParams({ pretrainSize: 0, trainSize: 2, testSize: 2 });
 * const splits = generateSplits(params, 1);
 * if (splits.test.length !== 2) throw new Error("sizes respected");
 * ```
 * @module
 */

import { Random } from "../../random.ts";
import { applyOperation, confusedOperation } from "./arithmetic.ts";
import {
  AMOUNT,
  OBJECT,
  OBJECTS,
  OTHER_PERSON,
  PEOPLE,
  type Person,
  POSSESSIVE,
  QUESTION_THEN_PROBABILITY,
  triggerVerb,
  type Verb,
  VERBS,
} from "./lexicon.ts";
import type { Operation, WorldParams } from "./params.ts";
import type { WorldProblem, WorldStep } from "./problem.ts";
import { canonicalSolution, renderSolution } from "./solution.ts";
import { spellNumber } from "./text.ts";

/** The three disjoint problem sets of one seed. */
export interface WorldSplits {
  /** Problems whose (noisy) solutions pretrain the policy. */
  pretrain: WorldProblem[];
  /** Problems the pipeline samples trajectories on (preference data, CE). */
  train: WorldProblem[];
  /** Held-out problems for evaluation. */
  test: WorldProblem[];
}

/** Names of the splits, in the order they are generated. */
export const SPLIT_NAMES = ["test", "train", "pretrain"] as const;

/** Smallest and largest multiplier or divisor: a single digit keeps long multiplication out. */
const FACTOR_RANGE = [2, 9] as const;
/** Number draws tried for one verb plan before a new plan is drawn. */
const AMOUNT_TRIES_PER_PLAN = 2000;
/** Total draws before giving up: only reachable with a tiny maxValue and few operations. */
const MAX_ATTEMPTS = 100_000;

/**
 * Generate the three splits. The test split is generated first, then train, then pretrain, each
 * from its own stream derived from `seed`, and a question already used by an earlier split is
 * drawn again: so the test split depends only on the seed and the problem shape, never on the
 * sizes of the other splits, and no question appears in two splits.
 */
export function generateSplits(params: WorldParams, seed: number): WorldSplits {
  const seen = new Set<string>();
  const sizes = { test: params.testSize, train: params.trainSize, pretrain: params.pretrainSize };
  const splits: WorldSplits = { pretrain: [], train: [], test: [] };
  for (const split of SPLIT_NAMES) {
    const random = Random.derive(seed, "world", split);
    while (splits[split].length < sizes[split]) {
      const problem = generateProblem(params, random, `${split}-${splits[split].length}`);
      if (seen.has(problem.question)) continue;
      seen.add(problem.question);
      splits[split].push(problem);
    }
  }
  return splits;
}

/**
 * Draw one problem that satisfies every range and confusion constraint.
 *
 * @throws {Error} when no valid problem is found after many attempts (only with parameters that
 *   leave almost no valid amounts, e.g. maxValue near its minimum with only multiply/divide).
 */
export function generateProblem(params: WorldParams, random: Random, id: string): WorldProblem {
  for (let attempt = 0; attempt < MAX_ATTEMPTS;) {
    const plan = drawVerbPlan(params, random);
    for (let tries = 0; tries < AMOUNT_TRIES_PER_PLAN; tries++, attempt++) {
      const drawn = drawAmounts(plan, params.maxValue, random);
      if (drawn === null) continue;
      const person = random.pick(PEOPLE);
      const object = random.pick(OBJECTS);
      const question = renderQuestion(person, object, drawn.start, drawn.steps, random);
      const solution = renderSolution(canonicalSolution(drawn.start, drawn.steps, random));
      const answer = drawn.steps[drawn.steps.length - 1].after;
      return { id, question, start: drawn.start, steps: drawn.steps, answer, solution };
    }
  }
  throw new Error(
    `Cannot generate a world problem: no valid amounts after ${MAX_ATTEMPTS} attempts with ` +
      `maxValue ${params.maxValue} and operations [${params.operations.join(", ")}]; ` +
      `raise maxValue or enable add and subtract`,
  );
}

/**
 * The answer a problem's steps reach when step `confusedIndex` performs its partner operation and
 * every other step is applied correctly, or null when that path leaves [1, maxValue] or divides
 * unevenly. The generator guarantees a number different from the answer for every step.
 */
export function confusedAnswer(
  start: number,
  steps: readonly Pick<WorldStep, "operation" | "operand">[],
  confusedIndex: number,
  maxValue: number,
): number | null {
  let running = start;
  for (let i = 0; i < steps.length; i++) {
    const operation = i === confusedIndex
      ? confusedOperation(steps[i].operation)
      : steps[i].operation;
    const next = applyOperation(operation, running, steps[i].operand);
    if (next === null || next < 1 || next > maxValue) return null;
    running = next;
  }
  return running;
}

/** The verbs of one problem: its step count, trigger placement and other verbs. */
function drawVerbPlan(params: WorldParams, random: Random): Verb[] {
  const count = random.int(params.minSteps, params.maxSteps);
  const plan: (Verb | undefined)[] = new Array(count).fill(undefined);
  const freePositions = random.shuffle([...plan.keys()]);
  // Trigger shares are per problem (not per step) so the share of greedy-wrong problems, which
  // sets the policy's accuracy, is a parameter rather than a consequence of the step count.
  if (random.next() < params.greedyTriggerShare) plan[freePositions.pop()!] = triggerVerb("greedy");
  if (random.next() < params.samplingTriggerShare && freePositions.length > 0) {
    plan[freePositions.pop()!] = triggerVerb("sampling");
  }
  return plan.map((verb) => {
    if (verb) return verb;
    const operation = random.pick(params.operations);
    return random.pick(VERBS.filter((v) => v.operation === operation && v.trigger === undefined));
  });
}

/** Start amount and operands for a plan, or null when this draw breaks a constraint. */
function drawAmounts(
  plan: readonly Verb[],
  maxValue: number,
  random: Random,
): { start: number; steps: WorldStep[] } | null {
  const start = random.int(2, maxValue);
  const steps: WorldStep[] = [];
  let running = start;
  for (const verb of plan) {
    const candidates = operandCandidates(verb.operation, running, maxValue);
    if (candidates.length === 0) return null;
    const operand = random.pick(candidates);
    const after = applyOperation(verb.operation, running, operand)!;
    steps.push({ operation: verb.operation, operand, verb: verb.id, before: running, after });
    running = after;
  }
  for (let i = 0; i < steps.length; i++) {
    const confused = confusedAnswer(start, steps, i, maxValue);
    if (confused === null || confused === running) return null;
  }
  return { start, steps };
}

/**
 * Operands for which both the step and its confusion stay in [1, maxValue] with whole results.
 * The partner operations share their constraints: add and subtract need operand < running and
 * running + operand <= maxValue; multiply and divide need a single-digit factor of the running
 * amount with running * factor <= maxValue.
 */
function operandCandidates(operation: Operation, running: number, maxValue: number): number[] {
  const candidates: number[] = [];
  if (operation === "add" || operation === "subtract") {
    for (let n = 2; n < running && running + n <= maxValue; n++) candidates.push(n);
  } else {
    for (let n = FACTOR_RANGE[0]; n <= FACTOR_RANGE[1]; n++) {
      if (running % n === 0 && running * n <= maxValue) candidates.push(n);
    }
  }
  return candidates;
}

function renderQuestion(
  person: Person,
  object: string,
  start: number,
  steps: readonly WorldStep[],
  random: Random,
): string {
  const parts = [person.name, "has", spellNumber(start), object, "."];
  steps.forEach((step, index) => {
    if (index > 0 && random.next() < QUESTION_THEN_PROBABILITY) parts.push("then");
    parts.push(person.subject);
    const verb = VERBS.find((v) => v.id === step.verb)!;
    for (const token of verb.template) {
      if (token === AMOUNT) parts.push(spellNumber(step.operand));
      else if (token === OBJECT) parts.push(object);
      else if (token === POSSESSIVE) parts.push(person.possessive);
      else if (token === OTHER_PERSON) {
        parts.push(random.pick(PEOPLE.filter((p) => p !== person)).name);
      } else parts.push(token);
    }
    parts.push(".");
  });
  parts.push("how", "many", object, "does", person.name, "have", "?");
  return parts.join(" ");
}
