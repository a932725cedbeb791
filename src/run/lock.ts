/**
 * One writer per run directory. `reproduce`, `figures` and a notebook that runs the pipeline
 * take `<run>/run.lock` before they write anything and release it however they end; reading a
 * finished run needs no lock.
 *
 * The lock is an exclusive `flock` on that file, which the kernel drops when its holder dies, so
 * a `kill -9` never leaves a directory locked on this host. The file also records who holds it
 * (pid, host, start time, command), for the message a second writer sees and for a lock left by a
 * process that is gone: on this host such a lock is stale and taken over with a note. `flock`
 * does not reach across hosts on every shared file system, so a record naming another host is
 * always obeyed; the message says how to clear it (delete the file once that run has stopped).
 *
 * @module
 */
import { join } from "node:path";
import { hostname } from "node:os";
import { UserError } from "../errors.ts";

/** The lock file's name inside a run directory. */
export const LOCK_FILE = "run.lock";

/** Who holds a lock, as recorded in the lock file. */
export interface LockHolder {
  pid: number;
  host: string;
  /** ISO time the lock was taken. */
  started: string;
  /** The command line of the holder. */
  command: string;
}

/** The run directory is being written by another process (or was, on another host). */
export class RunLockedError extends UserError {
  constructor(
    readonly runDir: string,
    readonly lockPath: string,
    readonly holder: LockHolder | null,
  ) {
    super(RunLockedError.#message(runDir, lockPath, holder));
  }

  static #message(runDir: string, lockPath: string, holder: LockHolder | null): string {
    if (holder === null) {
      return `Cannot write ${runDir}: another process is taking its lock ${lockPath} right now; ` +
        "wait for it to finish";
    }
    const who = `pid ${holder.pid} on ${holder.host} since ${holder.started} (${holder.command})`;
    if (holder.host !== hostname()) {
      return `Cannot write ${runDir}: it is locked by ${who}; wait for that run to finish, or, ` +
        `if no such process runs on ${holder.host} any more, delete ${lockPath}`;
    }
    const self = holder.pid === Deno.pid
      ? " (this process: a notebook cell was interrupted while running the pipeline? restart the kernel)"
      : "";
    return `Cannot write ${runDir}: it is in use by ${who}${self}; wait for it to finish ` +
      "or stop it, or use another --out";
  }
}

/** A held run-directory lock. */
export class RunLock {
  #file: Deno.FsFile | null;

  private constructor(readonly path: string, file: Deno.FsFile, readonly holder: LockHolder) {
    this.#file = file;
  }

  /**
   * Takes the lock of `runDir` (which must exist), or throws {@linkcode RunLockedError} at once
   * naming the holder. `note` receives one line when a stale lock is taken over.
   */
  static async acquire(
    runDir: string,
    options: { command?: string; note?: (line: string) => void } = {},
  ): Promise<RunLock> {
    const path = join(runDir, LOCK_FILE);
    // A file deleted by its releasing holder between our open and our flock is not the lock any
    // more: open again (a few times at most; each retry means another process made progress).
    for (let attempt = 0; attempt < 20; attempt++) {
      const file = await Deno.open(path, { read: true, write: true, create: true });
      let owned = false;
      try {
        if (!(await file.tryLock(true))) {
          throw new RunLockedError(runDir, path, await readHolder(path));
        }
        if (!(await sameFile(file, path))) continue;
        // Holding the flock means no process on this host holds the lock: a recorded holder
        // from this host is gone. One from another host may hold it where flock cannot see.
        const previous = await readHolder(path);
        if (previous && previous.host !== hostname()) {
          throw new RunLockedError(runDir, path, previous);
        }
        if (previous) {
          options.note?.(
            `${path}: taking over the lock of pid ${previous.pid} (${previous.command}, since ` +
              `${previous.started}), which is no longer running`,
          );
        }
        const holder: LockHolder = {
          pid: Deno.pid,
          host: hostname(),
          started: new Date().toISOString(),
          command: options.command ?? commandLine(),
        };
        await file.truncate(0);
        await file.write(new TextEncoder().encode(JSON.stringify(holder, null, 2) + "\n"));
        await file.syncData();
        owned = true;
        return new RunLock(path, file, holder);
      } finally {
        // Closing the only handle drops the flock.
        if (!owned) file.close();
      }
    }
    throw new RunLockedError(runDir, path, await readHolder(path));
  }

  /** Whether this handle still holds the lock. */
  get held(): boolean {
    return this.#file !== null;
  }

  /** Releases the lock and deletes its file; synchronous so it can run in a signal handler. */
  release(): void {
    const file = this.#file;
    if (file === null) return;
    this.#file = null;
    // Delete first, then unlock: a process that opened the old file meanwhile notices that its
    // handle is no longer the path's file and opens again.
    try {
      Deno.removeSync(this.path);
    } catch { /* gone already */ }
    try {
      file.unlockSync();
    } catch { /* closing unlocks too */ }
    try {
      file.close();
    } catch { /* already closed */ }
  }

  [Symbol.dispose](): void {
    this.release();
  }
}

/** The holder recorded in a lock file, or null when it is empty or unreadable. */
export async function readHolder(path: string): Promise<LockHolder | null> {
  try {
    const value = JSON.parse(await Deno.readTextFile(path));
    return value && typeof value.pid === "number" && typeof value.host === "string"
      ? value as LockHolder
      : null;
  } catch {
    return null;
  }
}

async function sameFile(file: Deno.FsFile, path: string): Promise<boolean> {
  try {
    const [a, b] = await Promise.all([file.stat(), Deno.stat(path)]);
    return a.ino === b.ino && a.dev === b.dev;
  } catch {
    return false;
  }
}

function commandLine(): string {
  const script = Deno.mainModule.startsWith("file://")
    ? Deno.mainModule.slice(Deno.mainModule.lastIndexOf("/") + 1)
    : Deno.mainModule;
  return [script, ...Deno.args].join(" ");
}
