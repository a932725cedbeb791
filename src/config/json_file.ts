/** Reading JSON files with errors that point at file:line:column. @module */
import { ConfigError } from "./errors.ts";
import { visible } from "../io/visible.ts";

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

/** Reads and parses a JSON file. */
export async function readJsonFile(path: string): Promise<unknown> {
  let text: string;
  try {
    text = await Deno.readTextFile(path);
  } catch (e) {
    throw new ConfigError(path, null, "a readable JSON file", (e as Error).message);
  }
  return parseJsonText(text, path);
}
