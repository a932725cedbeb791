/**
 * JSON Lines: one JSON object per line. The kit writes them for the trainer (SFT sets, pairs,
 * corpora) and reads them back (pairs, the trainer's metrics, GSM8K-style data sets). Reading
 * is strict, because a data file that is silently half-read gives results that look fine: the
 * text must be UTF-8 (a leading byte-order mark is accepted), every non-blank line one JSON
 * object, and the file must hold at least one record unless the caller allows none. Every
 * refusal is a {@linkcode DataFileError} naming `path:line`.
 *
 * @module
 */
import { writeFileAtomic } from "./atomic.ts";
import { DataFileError } from "./data_file_error.ts";
import { decodeUtf8Strict, Utf8Error } from "./utf8.ts";
import { visible } from "./visible.ts";

/** Records as JSON Lines: one JSON object per line, each line ending in a newline. */
export function toJsonl(records: readonly unknown[]): string {
  return records.map((record) => JSON.stringify(record) + "\n").join("");
}

/** Write records as JSON Lines to `path` atomically (temporary file, then rename). */
export function writeJsonl(path: string, records: readonly unknown[]): Promise<void> {
  return writeFileAtomic(path, toJsonl(records));
}

/** Options of {@linkcode readJsonlLines}. */
export interface ReadJsonlOptions {
  /** Accept a file with no records (for outputs that may legitimately be empty). @default {false} */
  allowEmpty?: boolean;
  /** What the file is, for messages, e.g. "GSM8K data". @default {"JSON Lines"} */
  what?: string;
}

/** One record and the 1-based line it came from. */
export interface JsonlLine {
  line: number;
  record: Record<string, unknown>;
}

/** Reads the records of a JSON Lines file with their line numbers (blank lines skipped). */
export async function readJsonlLines(
  path: string,
  options: ReadJsonlOptions = {},
): Promise<JsonlLine[]> {
  const what = options.what ?? "JSON Lines";
  let bytes: Uint8Array;
  try {
    bytes = await Deno.readFile(path);
  } catch (e) {
    const reason = e instanceof Deno.errors.NotFound
      ? "no such file"
      : e instanceof Deno.errors.IsADirectory
      ? "it is a directory"
      : (e as Error).message;
    throw new DataFileError(path, null, `${reason}; expected a ${what} file`, null, { cause: e });
  }
  return parseJsonlBytes(bytes, path, options);
}

/** Parses JSON Lines bytes read from `path` (see {@linkcode readJsonlLines}). */
export function parseJsonlBytes(
  bytes: Uint8Array,
  path: string,
  options: ReadJsonlOptions = {},
): JsonlLine[] {
  const what = options.what ?? "JSON Lines";
  let text: string;
  try {
    text = decodeUtf8Strict(bytes);
  } catch (e) {
    if (!(e instanceof Utf8Error)) throw e;
    throw new DataFileError(
      path,
      e.line,
      `invalid UTF-8 at byte offset ${e.offset}; save the file as UTF-8`,
      e.offset,
    );
  }
  const out: JsonlLine[] = [];
  for (const [i, line] of text.split("\n").entries()) {
    if (!line.trim()) continue;
    let value: unknown;
    try {
      value = JSON.parse(line);
    } catch (e) {
      throw new DataFileError(
        path,
        i + 1,
        `invalid JSON (${visible((e as Error).message)}); each line must be one JSON object`,
      );
    }
    if (typeof value !== "object" || value === null || Array.isArray(value)) {
      const got = value === null ? "null" : Array.isArray(value) ? "an array" : typeof value;
      throw new DataFileError(path, i + 1, `expected a JSON object on each line, got ${got}`);
    }
    out.push({ line: i + 1, record: value as Record<string, unknown> });
  }
  if (out.length === 0 && !options.allowEmpty) {
    throw new DataFileError(
      path,
      null,
      `the file holds no records (${bytes.length} bytes); expected ${what} with one JSON object per line`,
    );
  }
  return out;
}

/** Reads the records of a JSON Lines file (see {@linkcode readJsonlLines}). */
export async function readJsonl<T>(path: string, options: ReadJsonlOptions = {}): Promise<T[]> {
  return (await readJsonlLines(path, options)).map((l) => l.record as T);
}
