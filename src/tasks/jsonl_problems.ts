/**
 * Reading problem sets from local JSONL files (GSM8K's and MATH's usual forms): every line an
 * object; a bad line is an error naming `file:line`, the field and what it must be.
 *
 * @module
 */
import { readJsonlLines } from "../io/jsonl.ts";
import { DataFileError } from "../io/data_file_error.ts";
import { visible } from "../io/visible.ts";
import type { TaskProblem } from "./task.ts";

/** Turns one parsed record into a problem; throws a message naming the field when it cannot. */
export type RecordReader = (
  record: Record<string, unknown>,
) => { question: string; answer: string };

/**
 * Reads `path` (UTF-8, an optional byte-order mark, one object per line); problem ids are
 * `<prefix>-<index among the problems>`. A bad line is a {@linkcode DataFileError} naming
 * `file:line` and the field.
 */
export async function readProblemsJsonl(
  path: string,
  prefix: string,
  what: string,
  read: RecordReader,
): Promise<TaskProblem[]> {
  const problems: TaskProblem[] = [];
  for (const { line, record } of await readJsonlLines(path, { what: `${what}-style JSONL` })) {
    let parsed: { question: string; answer: string };
    try {
      parsed = read(record);
    } catch (e) {
      throw new DataFileError(path, line, visible((e as Error).message));
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
