/** The error of a data file the kit cannot use (JSON Lines, Parquet, few-shot JSON). @module */
import { UserError } from "../errors.ts";

/**
 * A data file that cannot be used. The message names `path:line` when the fault has a line
 * (and the byte offset for an encoding fault) and says what would fix it.
 */
export class DataFileError extends UserError {
  constructor(
    readonly path: string,
    readonly line: number | null,
    detail: string,
    readonly byteOffset: number | null = null,
    options?: ErrorOptions,
  ) {
    super(`Cannot read ${line === null ? path : `${path}:${line}`}: ${detail}`, options);
  }
}
