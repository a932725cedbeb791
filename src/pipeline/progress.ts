/**
 * Progress of a stage: a bar with ETA on a terminal, plain lines otherwise (logs, CI, notebooks).
 *
 * @module
 */

/** Where progress is shown. */
export interface ProgressSink {
  /** Starts a unit of work with a known total. */
  start(label: string, total: number): void;
  /** Sets how much of the current unit is done. */
  update(done: number, detail?: string): void;
  /** Ends the current unit. */
  finish(detail?: string): void;
  /** A message line (kept apart from the bar). */
  log(line: string): void;
}

/** Formats seconds as `1m05s` / `42s`. */
export function formatSeconds(s: number): string {
  if (!Number.isFinite(s) || s < 0) return "?";
  const m = Math.floor(s / 60);
  const r = Math.round(s - 60 * m);
  return m > 0 ? `${m}m${String(r).padStart(2, "0")}s` : `${r}s`;
}

/** A progress sink writing to stderr: a redrawn bar on a TTY, else a line every 10% or 15 s. */
export class ConsoleProgress implements ProgressSink {
  #label = "";
  #total = 1;
  #started = 0;
  #lastLine = 0;
  #lastFraction = -1;
  readonly #tty: boolean;
  readonly #encoder = new TextEncoder();

  constructor(tty: boolean = Deno.stderr.isTerminal()) {
    this.#tty = tty;
  }

  start(label: string, total: number): void {
    this.#label = label;
    this.#total = Math.max(1, total);
    this.#started = performance.now();
    this.#lastLine = this.#started;
    this.#lastFraction = -1;
    if (!this.#tty) this.#write(`${label}: 0/${total}\n`);
  }

  update(done: number, detail = ""): void {
    const fraction = Math.min(1, done / this.#total);
    const elapsed = (performance.now() - this.#started) / 1000;
    const eta = fraction > 0 ? (elapsed * (1 - fraction)) / fraction : NaN;
    const suffix = `${done}/${this.#total} ${formatSeconds(elapsed)} eta ${formatSeconds(eta)}${
      detail ? ` ${detail}` : ""
    }`;
    if (this.#tty) {
      const width = 24;
      const filled = Math.round(fraction * width);
      const bar = "#".repeat(filled) + "-".repeat(width - filled);
      this.#write(`\r\x1b[2K${this.#label} [${bar}] ${suffix}`);
      return;
    }
    const now = performance.now();
    if (
      Math.floor(fraction * 10) > Math.floor(this.#lastFraction * 10) ||
      now - this.#lastLine > 15000
    ) {
      this.#write(`${this.#label}: ${suffix}\n`);
      this.#lastLine = now;
      this.#lastFraction = fraction;
    }
  }

  finish(detail = ""): void {
    const elapsed = (performance.now() - this.#started) / 1000;
    this.#write(
      `${this.#tty ? "\r\x1b[2K" : ""}${this.#label}: done in ${formatSeconds(elapsed)}${
        detail ? ` (${detail})` : ""
      }\n`,
    );
  }

  log(line: string): void {
    this.#write(`${this.#tty ? "\r\x1b[2K" : ""}${line}\n`);
  }

  #write(text: string): void {
    Deno.stderr.writeSync(this.#encoder.encode(text));
  }
}

/** A sink that records nothing (tests, library use). */
export class SilentProgress implements ProgressSink {
  start(): void {}
  update(): void {}
  finish(): void {}
  log(): void {}
}
