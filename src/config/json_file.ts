/** Reading JSON files with errors that point at file:line:column. @module */
import { ConfigError } from "./errors.ts";
import { visible } from "../io/visible.ts";
import { decodeUtf8Strict, Utf8Error } from "../io/utf8.ts";
import { keyLines } from "./key_lines.ts";

/** Where a `JSON.parse` error of `text` happened (1-based line and column), when it says. */
export function jsonErrorPosition(
  text: string,
  error: Error,
): { line: number; column: number } | null {
  const pos = /position (\d+)/.exec(error.message);
  if (pos) {
    const offset = Number(pos[1]);
    const before = text.slice(0, offset);
    return { line: before.split("\n").length, column: offset - before.lastIndexOf("\n") };
  }
  const lc = /line (\d+) column (\d+)/.exec(error.message);
  return lc ? { line: Number(lc[1]), column: Number(lc[2]) } : null;
}

/** Parses JSON text; a syntax error names `file:line:column`. */
export function parseJsonText(text: string, file: string): unknown {
  try {
    return JSON.parse(text);
  } catch (e) {
    const pos = jsonErrorPosition(text, e as Error);
    const where = pos ? `${file}:${pos.line}:${pos.column}` : file;
    throw new ConfigError(
      where,
      null,
      "valid JSON",
      visible((e as Error).message.replace(/^JSON\.parse: /, "")),
    );
  }
}

/** Reads a JSON file's text (UTF-8; a byte-order mark is dropped). */
export async function readJsonText(path: string): Promise<string> {
  let bytes: Uint8Array;
  try {
    bytes = await Deno.readFile(path);
  } catch (e) {
    throw new ConfigError(path, null, "a readable JSON file", (e as Error).message);
  }
  try {
    return decodeUtf8Strict(bytes);
  } catch (e) {
    if (!(e instanceof Utf8Error)) throw e;
    throw new ConfigError(
      `${path}:${e.line}`,
      null,
      "UTF-8 text",
      `invalid UTF-8 at byte offset ${e.offset}`,
    );
  }
}

/** Reads and parses a JSON file. */
export async function readJsonFile(path: string): Promise<unknown> {
  return parseJsonText(await readJsonText(path), path);
}

/**
 * `error` pointing at the line of its key in `text` (the key itself, else the nearest enclosing
 * key the file has: a cross-field rule may name a key the file leaves to its default).
 */
export function withKeyLine(error: ConfigError, text: string): ConfigError {
  if (error.key === null || error.line !== null) return error;
  const lines = keyLines(text);
  for (let key = error.key; key; key = key.replace(/(\[\d+\]|\.[^.[]*)$/, "")) {
    const line = lines.get(key);
    if (line !== undefined) return error.atLine(line);
    if (!/[.[]/.test(key)) break;
  }
  return error;
}
