/**
 * JSON Lines: one JSON value per line. The kit writes them for the trainer (SFT sets, pairs,
 * corpora) and reads them back (pairs, the trainer's metrics).
 *
 * @module
 */
import { writeFileAtomic } from "./atomic.ts";

/** Records as JSON Lines: one JSON object per line, each line ending in a newline. */
export function toJsonl(records: readonly unknown[]): string {
  return records.map((record) => JSON.stringify(record) + "\n").join("");
}

/** Write records as JSON Lines to `path` atomically (temporary file, then rename). */
export function writeJsonl(path: string, records: readonly unknown[]): Promise<void> {
  return writeFileAtomic(path, toJsonl(records));
}

/** Reads the records of a JSON Lines file (blank lines skipped); a bad line names `path:line`. */
export async function readJsonl<T>(path: string): Promise<T[]> {
  const out: T[] = [];
  for (const [i, line] of (await Deno.readTextFile(path)).split("\n").entries()) {
    if (!line.trim()) continue;
    try {
      out.push(JSON.parse(line) as T);
    } catch (e) {
      throw new Error(`Cannot read ${path}:${i + 1}: invalid JSON (${(e as Error).message})`);
    }
  }
  return out;
}
