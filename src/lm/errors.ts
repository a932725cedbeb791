/**
 * Errors of the language-model layer: bad input names the item, a bad model file names the path.
 * Both are user-caused (src/errors.ts): the input or the model directory is what must change.
 * @module
 */
import { USER_CAUSED } from "../errors.ts";

/** An input that cannot be scored or sampled: `index` is the offending item of the batch. */
export class LmInputError extends RangeError {
  readonly [USER_CAUSED] = true;
  constructor(
    message: string,
    readonly index: number | null = null,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = "LmInputError";
  }
}

/** A model directory or file that is missing or unreadable. */
export class ModelFileError extends Error {
  readonly [USER_CAUSED] = true;
  constructor(message: string, readonly path: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = "ModelFileError";
  }
}
