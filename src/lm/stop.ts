/**
 * Stop-string detection on generated tokens, shared by the backends' decoding loops.
 * @module
 */

/** Detects whether the decoded tail of a generation contains one of the stop strings. */
export class StopStrings {
  readonly #strings: readonly string[];
  readonly #window: number;
  readonly #decode: (ids: readonly number[]) => string;

  constructor(strings: readonly string[], decode: (ids: readonly number[]) => string) {
    this.#strings = strings;
    this.#decode = decode;
    // Every token decodes to at least one character (or a separator), so a stop string of m
    // characters that was just completed lies within the last m + 1 tokens; decoding only that
    // window keeps each check O(m) instead of O(generated length).
    this.#window = Math.max(0, ...strings.map((s) => s.length)) + 1;
  }

  /** True when the tail of `tokens` contains a stop string. Python's twin: cdpo_trainer.lm.torch_lm.TorchLM.sample. */
  hit(tokens: readonly number[]): boolean {
    if (this.#strings.length === 0) return false;
    const tail = this.#decode(tokens.slice(-this.#window));
    return this.#strings.some((s) => tail.includes(s));
  }
}
