/**
 * Parameters of the embedded world: the shape of its problems, the sizes of its splits and the
 * rates of the failure modes planted in the pretraining corpus.
 *
 * {@linkcode WorldOptions} is what a user writes (every field optional);
 * {@linkcode resolveWorldParams} fills the defaults and rejects bad settings, giving the
 * {@linkcode WorldParams} every other function of the world takes.
 *
 * @example
 * ```ts
 * import { resolveWorldParams } from "./params.ts";
 * const params = resolveWorldParams({ maxSteps: 4 });
 * if (params.minSteps !== 2 || params.maxSteps !== 4) throw new Error("defaults filled");
 * ```
 * @module
 */

/** The four operations a step can apply to the running amount. */
export const OPERATIONS = ["add", "subtract", "multiply", "divide"] as const;

/** One of {@linkcode OPERATIONS}. */
export type Operation = typeof OPERATIONS[number];

/** Resolved world parameters: every field filled and validated. */
export interface WorldParams {
  /** Fewest steps in a problem. @default 2 */
  minSteps: number;
  /** Most steps in a problem. @default 3 */
  maxSteps: number;
  /** Operations steps are drawn from (uniformly). @default all four */
  operations: readonly Operation[];
  /**
   * Largest value any amount may take, on the canonical path and under every single confusion
   * (the smallest is 1). 99 keeps every number at two digits, which the tiny policy learns in a
   * few CPU minutes. @default 99
   */
  maxValue: number;
  /** Problems in the pretraining split. @default 40000 */
  pretrainSize: number;
  /** Problems in the train split (sampling, preference data). @default 1500 */
  trainSize: number;
  /** Problems in the test split (evaluation). @default 2000 */
  testSize: number;
  /** Fraction of problems that contain the greedy trigger verb (`borrows`). @default 0.3 */
  greedyTriggerShare: number;
  /** Fraction of problems that contain the sampling trigger verb (`lends`). @default 0.5 */
  samplingTriggerShare: number;
  /**
   * Probability that the greedy trigger verb is rendered with the wrong meaning word in a
   * pretraining solution. Above 0.5, so greedy decoding follows the wrong meaning. @default 0.6
   */
  greedyTriggerRate: number;
  /**
   * Probability that the sampling trigger verb is rendered with the wrong meaning word. Below
   * 0.5, so only sampling follows it. @default 0.3
   */
  samplingTriggerRate: number;
  /** Probability that an addition or multiplication with a carry drops its lowest carry. @default 0.02 */
  carrySlipRate: number;
  /** Probability that a subtraction with a borrow drops its lowest borrow. @default 0.02 */
  borrowSlipRate: number;
  /**
   * Probability that the step after one opened with the trap connective (`so`) is written with
   * the wrong meaning word: a delayed consequence, where the token that dooms the solution (the
   * connective, allowed on its own) comes a step before the first wrong token. 0 turns it off.
   * @default 0
   */
  delayedTrapRate: number;
}

/** User-facing world options: any subset of {@linkcode WorldParams}. */
export type WorldOptions = Partial<WorldParams>;

/** The defaults {@linkcode resolveWorldParams} fills in. */
export const DEFAULT_WORLD_PARAMS: Readonly<WorldParams> = Object.freeze({
  minSteps: 2,
  maxSteps: 3,
  operations: Object.freeze([...OPERATIONS]),
  maxValue: 99,
  pretrainSize: 40000,
  trainSize: 1500,
  testSize: 2000,
  greedyTriggerShare: 0.3,
  samplingTriggerShare: 0.5,
  greedyTriggerRate: 0.6,
  samplingTriggerRate: 0.3,
  carrySlipRate: 0.02,
  borrowSlipRate: 0.02,
  delayedTrapRate: 0,
});

/** Accepted step counts: more than 8 steps makes sequences too long for the tiny policy. */
export const STEP_RANGE = [1, 8] as const;
/** Accepted maxValue: below 20 rejection sampling finds almost no problems; above 9999 numbers get long. */
export const MAX_VALUE_RANGE = [20, 9999] as const;

/**
 * Fill defaults into `options` and validate the result.
 *
 * @throws {RangeError} naming the parameter and its accepted range when a value is out of range,
 *   an operation name is unknown, or a trigger share is positive while its operation is disabled.
 */
export function resolveWorldParams(options: WorldOptions = {}): WorldParams {
  const params: WorldParams = {
    ...DEFAULT_WORLD_PARAMS,
    ...stripUndefined(options),
    operations: [...(options.operations ?? DEFAULT_WORLD_PARAMS.operations)],
  };
  requireInteger("minSteps", params.minSteps, STEP_RANGE[0], STEP_RANGE[1]);
  requireInteger("maxSteps", params.maxSteps, STEP_RANGE[0], STEP_RANGE[1]);
  if (params.minSteps > params.maxSteps) {
    throw new RangeError(
      `Cannot resolve world params: minSteps ${params.minSteps} is greater than maxSteps ` +
        `${params.maxSteps}; pass minSteps <= maxSteps, both in [${STEP_RANGE.join(", ")}]`,
    );
  }
  requireInteger("maxValue", params.maxValue, MAX_VALUE_RANGE[0], MAX_VALUE_RANGE[1]);
  for (const name of ["pretrainSize", "trainSize", "testSize"] as const) {
    requireInteger(name, params[name], 0, Number.MAX_SAFE_INTEGER);
  }
  for (
    const name of [
      "greedyTriggerShare",
      "samplingTriggerShare",
      "greedyTriggerRate",
      "samplingTriggerRate",
      "carrySlipRate",
      "borrowSlipRate",
      "delayedTrapRate",
    ] as const
  ) {
    requireProbability(name, params[name]);
  }
  validateOperations(params.operations);
  if (params.greedyTriggerShare > 0 && !params.operations.includes("add")) {
    throw new RangeError(
      `Cannot resolve world params: greedyTriggerShare ${params.greedyTriggerShare} needs ` +
        `operation "add" (the trigger verb "borrows" adds); enable "add" or set the share to 0`,
    );
  }
  if (params.samplingTriggerShare > 0 && !params.operations.includes("subtract")) {
    throw new RangeError(
      `Cannot resolve world params: samplingTriggerShare ${params.samplingTriggerShare} needs ` +
        `operation "subtract" (the trigger verb "lends" subtracts); enable "subtract" or set the share to 0`,
    );
  }
  return params;
}

function validateOperations(operations: readonly string[]): void {
  const accepted = OPERATIONS.join(", ");
  if (operations.length === 0) {
    throw new RangeError(
      `Cannot resolve world params: operations is empty; pass a non-empty subset of [${accepted}]`,
    );
  }
  const seen = new Set<string>();
  for (const name of operations) {
    if (!(OPERATIONS as readonly string[]).includes(name)) {
      throw new RangeError(
        `Cannot resolve world params: operations contains unknown operation ${
          JSON.stringify(name)
        }; accepted operations are [${accepted}]`,
      );
    }
    if (seen.has(name)) {
      throw new RangeError(
        `Cannot resolve world params: operations lists ${JSON.stringify(name)} twice; ` +
          `pass each of [${accepted}] at most once`,
      );
    }
    seen.add(name);
  }
}

function requireInteger(name: string, value: number, min: number, max: number): void {
  if (!Number.isInteger(value) || value < min || value > max) {
    const range = max === Number.MAX_SAFE_INTEGER
      ? `an integer >= ${min}`
      : `an integer in [${min}, ${max}]`;
    throw new RangeError(
      `Cannot resolve world params: ${name} ${value} is out of range; pass ${range}`,
    );
  }
}

function requireProbability(name: string, value: number): void {
  if (typeof value !== "number" || !(value >= 0 && value <= 1)) {
    throw new RangeError(
      `Cannot resolve world params: ${name} ${value} is out of range; pass a number in [0, 1]`,
    );
  }
}

/** Drop keys whose value is undefined so they do not overwrite defaults in a spread. */
function stripUndefined<T extends object>(options: T): Partial<T> {
  return Object.fromEntries(
    Object.entries(options).filter(([, value]) => value !== undefined),
  ) as Partial<T>;
}
