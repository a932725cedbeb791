/** The run-directory argument of a task (`--out`, `--run`): a folder, or a path to make one at. @module */
import { UserError } from "../errors.ts";

/** A path given for a run directory that cannot be one. */
export class RunDirArgumentError extends UserError {}

/**
 * Throws unless `path` is a directory or does not exist yet (with `mustExist`, unless it is a
 * directory), and this process may write there. `option` names the argument in the message,
 * e.g. "--out".
 */
export function checkOutDir(
  path: string,
  option: string,
  mustExist = false,
  /** Whether the task writes there (else only its existence is checked). */
  writes = true,
): void {
  if (writes) checkWritable(path, option);
  let info: Deno.FileInfo;
  try {
    info = Deno.statSync(path);
  } catch (e) {
    if (e instanceof Deno.errors.NotFound && !mustExist) return;
    const reason = e instanceof Deno.errors.NotFound ? "no such directory" : (e as Error).message;
    throw new RunDirArgumentError(
      `Cannot use ${option} ${path}: ${reason}; name a run directory written by \`deno task reproduce\``,
    );
  }
  if (!info.isDirectory) {
    throw new RunDirArgumentError(
      `Cannot use ${option} ${path}: it is a file; name a directory (a new one, or a run directory)`,
    );
  }
}

/**
 * Throws unless the task's permissions let it write `path`: the tasks of deno.json may write
 * only the repository's runs/ and .cache/ (README, "Permissions").
 */
export function checkWritable(path: string, option: string): void {
  if (Deno.permissions.querySync({ name: "write", path }).state === "granted") return;
  throw new RunDirArgumentError(
    `Cannot use ${option} ${path}: this task may write only under the kit's runs/ and .cache/ ` +
      `folders; choose a folder in runs/, or run the script with deno run and an --allow-write ` +
      `that includes ${path} (README, "Permissions")`,
  );
}
