/**
 * What must happen however a task ends: hooks registered here run on a normal exit, an error,
 * and on SIGINT (Ctrl-C) or SIGTERM, before the process exits with 130 or 143. Only the task
 * entry points install the signal handlers ({@linkcode installSignalHandlers}); a library caller
 * such as a notebook kernel keeps its own meaning of an interrupt.
 *
 * @module
 */

type Hook = () => void;

const hooks = new Set<Hook>();

/** Registers `hook` (synchronous: it may run inside a signal handler); returns its removal. */
export function onShutdown(hook: Hook): () => void {
  hooks.add(hook);
  return () => hooks.delete(hook);
}

/** Runs and forgets every registered hook, newest first; a failing hook does not stop the others. */
export function runShutdownHooks(): void {
  for (const hook of [...hooks].reverse()) {
    hooks.delete(hook);
    try {
      hook();
    } catch {
      // Best effort: the process is ending.
    }
  }
}

let installed = false;

/**
 * Makes SIGINT and SIGTERM run the hooks, print `<name>: interrupted (...)` and exit with
 * 128 + the signal number, as a shell reports a process killed by that signal.
 */
export function installSignalHandlers(name: string): void {
  if (installed || Deno.build.os === "windows") return;
  installed = true;
  const on = (signal: "SIGINT" | "SIGTERM", code: number) =>
    Deno.addSignalListener(signal, () => {
      runShutdownHooks();
      console.error(`${name}: interrupted (${signal}); run the same command again to resume`);
      Deno.exit(code);
    });
  on("SIGINT", 130);
  on("SIGTERM", 143);
}
