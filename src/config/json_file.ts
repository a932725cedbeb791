/** Reading JSON files with errors that point at file:line:column. @module */
import { ConfigError } from "./errors.ts";

/** Parses JSON text; a syntax error names `file:line:column`. */
export function parseJsonText(text: string, file: string): unknown {
  try {
    return JSON.parse(text);
  } catch (e) {
    const message = (e as Error).message;
    const pos = /position (\d+)/.exec(message);
    let where = file;
    if (pos) {
      const offset = Number(pos[1]);
      const before = text.slice(0, offset);
      const line = before.split("\n").length;
      const column = offset - before.lastIndexOf("\n");
      where = `${file}:${line}:${column}`;
    } else {
      const lc = /line (\d+) column (\d+)/.exec(message);
      if (lc) where = `${file}:${lc[1]}:${lc[2]}`;
    }
    throw new ConfigError(where, null, "valid JSON", message.replace(/^JSON\.parse: /, ""));
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
