/** Opening a model file for a structural check, with the error naming the file. @module */
import { ModelFileError } from "./errors.ts";

/** Opens `path` for reading with its size; a missing or unreadable file is a {@linkcode ModelFileError}. */
export async function openModelFile(path: string): Promise<{ file: Deno.FsFile; size: number }> {
  let file: Deno.FsFile;
  try {
    file = await Deno.open(path, { read: true });
  } catch (e) {
    throw new ModelFileError(`Cannot read ${path}: ${(e as Error).message}`, path, { cause: e });
  }
  return { file, size: (await file.stat()).size };
}
