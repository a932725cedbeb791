/**
 * Typed failures of the trainer process. Every one carries the trainer's exit code (null while
 * it still runs) and the tail of its stderr, so a report shows what Python said.
 *
 * @module
 */
import { USER_CAUSED } from "../errors.ts";

/** Why a trainer request failed. */
export type TrainerFailure =
  | "crashed" // the process exited (or could not start) before answering
  | "protocol" // it wrote a line that is not a valid message, or an answer for an unknown request
  | "remote" // the op raised: `kind` says which (bad_input, unknown_op, internal, protocol)
  | "cancelled"; // the caller's AbortSignal fired; the process was ended

/** A failed trainer request. */
export class TrainerError extends Error {
  constructor(
    readonly failure: TrainerFailure,
    message: string,
    readonly details: {
      exitCode: number | null;
      stderrTail: string;
      /** For `remote` failures: the error kind the trainer reported. */
      kind?: string;
      /** For `remote` failures: the Python traceback. */
      traceback?: string;
      /** For `protocol` failures: the offending line. */
      line?: string;
      op?: string;
    },
    options?: { cause?: unknown },
  ) {
    const tail = details.stderrTail.trim();
    super(
      tail && failure !== "remote" ? `${message}\n--- trainer stderr (tail) ---\n${tail}` : message,
      options,
    );
    this.name = "TrainerError";
  }

  /**
   * Whether the failure is the user's to fix (src/errors.ts): bad input, or a process that was
   * killed, ran out of memory or was cancelled. A malformed message, an unknown op or an
   * internal error of the trainer is a defect of the kit.
   */
  get [USER_CAUSED](): boolean {
    if (this.failure === "protocol") return false;
    return this.failure !== "remote" || this.details.kind === "bad_input";
  }

  get exitCode(): number | null {
    return this.details.exitCode;
  }

  get stderrTail(): string {
    return this.details.stderrTail;
  }
}
