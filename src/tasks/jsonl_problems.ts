/**
 * Reading problem sets from local JSONL files (GSM8K's and MATH's usual forms): every line an
 * object; a bad line is an error naming `file:line`, the field and what it must be.
 *
 * @module
 */
import type { TaskProblem } from "./task.ts";

/** Turns one parsed record into a problem; throws a message naming the field when it cannot. */
export type RecordReader = (
  record: Record<string, unknown>,
) => { question: string; answer: string };

/** Reads `path` line by line; problem ids are `<prefix>-<index among the problems>`. */
export async function readProblemsJsonl(
  path: string,
  prefix: string,
  what: string,
  read: RecordReader,
): Promise<TaskProblem[]> {
  let text: string;
  try {
    text = await Deno.readTextFile(path);
  } catch (e) {
    throw new Error(`Cannot read ${what} data ${path}: ${(e as Error).message}`);
  }
  const problems: TaskProblem[] = [];
  for (const [i, line] of text.split("\n").entries()) {
    if (!line.trim()) continue;
    const where = `Cannot read ${what} data ${path}:${i + 1}`;
    let record: unknown;
    try {
      record = JSON.parse(line);
    } catch (e) {
      throw new Error(`${where}: invalid JSON (${(e as Error).message})`);
    }
    if (typeof record !== "object" || record === null || Array.isArray(record)) {
      throw new Error(`${where}: expected a JSON object per line`);
    }
    let parsed: { question: string; answer: string };
    try {
      parsed = read(record as Record<string, unknown>);
    } catch (e) {
      throw new Error(`${where}: ${(e as Error).message}`);
    }
    problems.push({ id: `${prefix}-${problems.length}`, ...parsed });
  }
  return problems;
}

/** The non-empty string field `name` of `record`, trimmed. */
export function stringField(record: Record<string, unknown>, name: string, hint = ""): string {
  const value = record[name];
  if (typeof value !== "string" || !value.trim()) {
    throw new Error(`field '${name}' must be a non-empty string${hint}`);
  }
  return value.trim();
}
