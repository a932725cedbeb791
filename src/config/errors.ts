/** The error every config problem becomes: it names the file, the key and what was expected. @module */

/** A config file that cannot be used; nothing runs. */
export class ConfigError extends Error {
  constructor(
    readonly file: string,
    readonly key: string | null,
    readonly expected: string,
    detail?: string,
  ) {
    const where = key ? `${file}: key '${key}'` : file;
    super(`Cannot use config ${where}: ${detail ? `${detail}; ` : ""}expected ${expected}`);
    this.name = "ConfigError";
  }
}
