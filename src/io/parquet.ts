/**
 * Parquet tables through nodejs-polars, written atomically. Rows are plain objects with the
 * column names of src/pipeline/schema.ts.
 *
 * @module
 */
import pl from "nodejs-polars";
import { produceAtomic } from "./atomic.ts";

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

/** Reads a Parquet file back as row objects. */
export function readParquetRows<T>(path: string): T[] {
  return pl.readParquet(path).toRecords() as unknown as T[];
}
