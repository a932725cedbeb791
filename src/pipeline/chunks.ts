/**
 * Resumable work in chunks: a long stage maps its items chunk by chunk, each chunk's results
 * saved atomically in the stage's work folder; after an interruption the finished chunks are
 * read back instead of recomputed. Because every item has its own random stream, the results
 * do not depend on where the run was interrupted.
 *
 * @module
 */
import { existsSync } from "node:fs";
import { join } from "node:path";
import { writeJsonAtomic } from "../io/atomic.ts";
import type { ProgressSink } from "./progress.ts";

/** Maps `items` in chunks of `chunkSize`, keeping each chunk's results in `workDir/<name>-<i>.json`. */
export async function mapChunks<T, R>(
  workDir: string,
  name: string,
  items: readonly T[],
  chunkSize: number,
  fn: (chunk: readonly T[], chunkIndex: number) => Promise<R[]>,
  progress?: ProgressSink,
  label = name,
): Promise<R[]> {
  const results: R[] = [];
  progress?.start(label, items.length);
  for (let start = 0, index = 0; start < items.length; start += chunkSize, index++) {
    const path = join(workDir, `${name}-${String(index).padStart(5, "0")}.json`);
    const chunk = items.slice(start, start + chunkSize);
    let out: R[] | null = null;
    if (existsSync(path)) {
      try {
        out = JSON.parse(await Deno.readTextFile(path)) as R[];
      } catch {
        out = null; // Unreadable: recompute it.
      }
    }
    if (!out) {
      out = await fn(chunk, index);
      await writeJsonAtomic(path, out);
    }
    results.push(...out);
    progress?.update(Math.min(items.length, start + chunk.length));
  }
  progress?.finish();
  return results;
}

/**
 * The JSON value saved at `path`, or `compute()`'s result saved there atomically first. For work
 * worth keeping apart from what is done with it (raw samples before grading).
 */
export async function cachedJson<T>(path: string, compute: () => Promise<T>): Promise<T> {
  if (existsSync(path)) {
    try {
      return JSON.parse(await Deno.readTextFile(path)) as T;
    } catch {
      // Unreadable: compute it again.
    }
  }
  const value = await compute();
  await writeJsonAtomic(path, value);
  return value;
}
