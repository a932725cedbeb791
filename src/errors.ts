/**
 * The one marker of a user-caused error: bad config, bad data, a missing or damaged model, a run
 * directory in use. Every task prints such an error as one line (what, where, what to do) and
 * exits 1; any other error is a defect of the kit. The marker is a symbol-keyed property rather
 * than `instanceof`, so errors that must keep another base class (a `RangeError`, say) can carry
 * it too, and so can errors from a second copy of a module.
 *
 * @module
 */

/** The property that marks an error as caused by the user's input or environment. */
export const USER_CAUSED: unique symbol = Symbol.for("cdpo-kit.user-caused");

/**
 * Base class of user-caused errors. The message says what could not be done, where (file:line
 * or config key) and what would fix it.
 *
 * @example
 * ```ts
 * import { isUserCaused, UserError } from "./errors.ts";
 * class DataError extends UserError {}
 * console.assert(isUserCaused(new DataError("Cannot read a.jsonl:3: ...")));
 * console.assert(!isUserCaused(new TypeError("x is undefined")));
 * ```
 */
export class UserError extends Error {
  readonly [USER_CAUSED] = true;
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = new.target.name;
  }
}

/** Whether `e` is user-caused (carries {@linkcode USER_CAUSED}). */
export function isUserCaused(e: unknown): boolean {
  return typeof e === "object" && e !== null &&
    (e as { [USER_CAUSED]?: unknown })[USER_CAUSED] === true;
}
