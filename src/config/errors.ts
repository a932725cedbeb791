/** The error every config problem becomes: it names the file, the line, the key and what was expected. @module */
import { UserError } from "../errors.ts";

/** A config file that cannot be used; nothing runs. */
export class ConfigError extends UserError {
  constructor(
    readonly file: string,
    readonly key: string | null,
    readonly expected: string,
    readonly detail?: string,
    /** 1-based line of `key` in `file`, when known. */
    readonly line: number | null = null,
  ) {
    const at = line === null ? file : `${file}:${line}`;
    const where = key ? `${at}: key '${key}'` : at;
    super(`Cannot use config ${where}: ${detail ? `${detail}; ` : ""}expected ${expected}`);
  }

  /** The same error pointing at `line` of the file. */
  atLine(line: number): ConfigError {
    return new ConfigError(this.file, this.key, this.expected, this.detail, line);
  }
}
