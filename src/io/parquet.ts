/**
 * Parquet tables through nodejs-polars, written atomically and read back as plain row objects
 * (the row types of src/run/schema.ts).
 *
 * @module
 */
import pl from "nodejs-polars";
import { produceAtomic } from "./atomic.ts";

/** A stored table could not be read or lacks a column its reader needs. */
export class TableReadError extends Error {
  constructor(readonly path: string, detail: string, options?: ErrorOptions) {
    super(`Cannot read ${path}: ${detail}`, options);
    this.name = "TableReadError";
  }
}

/** Writes `rows` as a Parquet file (an empty table needs `columns` to know its columns). */
export function writeParquetAtomic(
  path: string,
  rows: readonly object[],
  columns?: readonly string[],
): Promise<void> {
  return produceAtomic(path, (tmp) => {
    // Infer types from every row: a column whose first rows are all null (first_error, say)
    // would otherwise be stored as null throughout.
    const df = rows.length > 0
      ? pl.DataFrame(rows as Record<string, unknown>[], { inferSchemaLength: rows.length })
      : pl.DataFrame(Object.fromEntries((columns ?? []).map((c) => [c, [] as number[]])));
    df.writeParquet(tmp);
  });
}

/**
 * Rows of a Parquet file as plain objects; 64-bit integers come back as JS numbers. Throws
 * {@linkcode TableReadError} when the file is not readable Parquet or lacks a `required` column.
 */
export function readParquetRows<T>(path: string, required: readonly string[] = []): T[] {
  let df: pl.DataFrame;
  try {
    df = pl.readParquet(path);
  } catch (e) {
    throw new TableReadError(path, "not a readable Parquet file (rerun the stage that writes it)", {
      cause: e,
    });
  }
  const missing = required.filter((c) => !df.columns.includes(c));
  if (missing.length > 0) {
    throw new TableReadError(
      path,
      `missing column(s) ${missing.join(", ")} (has ${
        df.columns.join(", ")
      }); the file predates the current schema, rerun its stage`,
    );
  }
  return df.toRecords().map((row) => {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(row)) out[k] = typeof v === "bigint" ? Number(v) : v;
    return out as T;
  });
}
