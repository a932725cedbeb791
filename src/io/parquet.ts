/**
 * Parquet tables through nodejs-polars, written atomically. Rows are plain objects with the
 * column names of src/pipeline/schema.ts.
 *
 * @module
 */
import pl from "nodejs-polars";
import { produceAtomic } from "./atomic.ts";
import { DataFileError } from "./data_file_error.ts";

/**
 * Writes `rows` as a Parquet file. An empty table needs `columns`: a file without columns
 * would pass for a written table and fail only when read.
 */
export function writeParquetAtomic(
  path: string,
  rows: readonly object[],
  columns?: readonly string[],
): Promise<void> {
  if (rows.length === 0 && (columns === undefined || columns.length === 0)) {
    throw new Error(`Cannot write ${path}: no rows and no column names`);
  }
  return produceAtomic(path, (tmp) => {
    // Infer types from every row: a column whose first rows are all null (first_error, say)
    // would otherwise be stored as null throughout.
    const df = rows.length > 0
      ? pl.DataFrame(rows as Record<string, unknown>[], { inferSchemaLength: rows.length })
      : pl.DataFrame(Object.fromEntries(columns!.map((c) => [c, [] as number[]])));
    df.writeParquet(tmp);
  });
}

/** Reads a Parquet file back as row objects; an unreadable file is a {@linkcode DataFileError}. */
export function readParquetRows<T>(path: string): T[] {
  let df: pl.DataFrame;
  try {
    df = pl.readParquet(path);
  } catch (e) {
    throw new DataFileError(
      path,
      null,
      "not a readable Parquet file; rerun the stage that writes it (delete the file, or rerun `deno task reproduce` on the run)",
      null,
      { cause: e },
    );
  }
  return df.toRecords() as unknown as T[];
}
