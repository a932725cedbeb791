/**
 * Errors of the language-model layer: bad input names the item, a bad model file names the path.
 * @module
 */

/** An input that cannot be scored or sampled: `index` is the offending item of the batch. */
export class LmInputError extends RangeError {
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
  constructor(message: string, readonly path: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = "ModelFileError";
  }
}
