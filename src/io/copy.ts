/** Copying files and folders atomically (temporary path beside the target, then rename). @module */
import { join } from "node:path";
import { produceAtomic } from "./atomic.ts";

/** Copies a file or a folder tree to `to`, replacing it. */
export function copy(from: string, to: string): Promise<void> {
  return produceAtomic(to, async (tmp) => {
    await copyInto(from, tmp);
  });
}

async function copyInto(from: string, to: string): Promise<void> {
  const info = await Deno.stat(from);
  if (info.isFile) {
    await Deno.copyFile(from, to);
    return;
  }
  await Deno.mkdir(to, { recursive: true });
  for (const entry of Deno.readDirSync(from)) {
    await copyInto(join(from, entry.name), join(to, entry.name));
  }
}
