/**
 * Atomic writes: every output of the kit is written to a temporary file beside its target and
 * renamed into place, so a reader never sees half a file and an interrupted run leaves none.
 *
 * @module
 */
import { dirname } from "node:path";

let counter = 0;

function tempPathFor(path: string): string {
  return `${path}.tmp-${Deno.pid}-${counter++}`;
}

/** Writes text or bytes to `path` atomically, creating parent folders. */
export async function writeFileAtomic(path: string, data: string | Uint8Array): Promise<void> {
  await Deno.mkdir(dirname(path), { recursive: true });
  const tmp = tempPathFor(path);
  try {
    if (typeof data === "string") await Deno.writeTextFile(tmp, data);
    else await Deno.writeFile(tmp, data);
    await Deno.rename(tmp, path);
  } catch (e) {
    await Deno.remove(tmp).catch(() => {});
    throw e;
  }
}

/** Writes JSON (two-space indented, trailing newline) atomically. */
export function writeJsonAtomic(path: string, value: unknown): Promise<void> {
  return writeFileAtomic(path, JSON.stringify(value, null, 2) + "\n");
}

/**
 * Runs `produce(tmpPath)` to create a file or folder at a temporary path, then renames it onto
 * `path` (replacing an older one). For writers that want a path rather than bytes (Parquet,
 * a model directory).
 */
export async function produceAtomic<T>(
  path: string,
  produce: (tmpPath: string) => Promise<T> | T,
): Promise<T> {
  await Deno.mkdir(dirname(path), { recursive: true });
  const tmp = tempPathFor(path);
  try {
    const result = await produce(tmp);
    await Deno.remove(path, { recursive: true }).catch(() => {});
    await Deno.rename(tmp, path);
    return result;
  } catch (e) {
    await Deno.remove(tmp, { recursive: true }).catch(() => {});
    throw e;
  }
}
