/**
 * The one error surface of every task: options parsed strictly (an unknown option or a missing
 * value prints the usage and exits 2), `--help` prints the usage, a user-caused error
 * (src/errors.ts) prints one line and exits 1, and any other error prints one line naming it a
 * defect and exits 1. Stack traces, causes and tool output tails are printed only with
 * `CDPO_DEBUG=1`. Shutdown hooks (src/cli/shutdown.ts) run however the task ends.
 *
 * @module
 */
import { parseArgs, type ParseArgsOptionsConfig } from "node:util";
import { isUserCaused, UserError } from "../errors.ts";
import { visible } from "../io/visible.ts";
import { installSignalHandlers, runShutdownHooks } from "./shutdown.ts";

/** A usage error: the task prints it with the usage and exits 2. */
export class UsageError extends UserError {}

/** A task's name, usage text and options (node:util parseArgs options). */
export interface CliSpec<O extends ParseArgsOptionsConfig> {
  /** Prefix of every line the task prints about an error, e.g. "reproduce". */
  name: string;
  /** The usage text, e.g. "usage: deno task figures --run DIR [--no-png]". */
  usage: string;
  options: O;
  /** Whether positional arguments are accepted. @default {false} */
  positionals?: boolean;
}

/** Parsed option values of a {@linkcode CliSpec}. */
export type CliValues<O extends ParseArgsOptionsConfig> = ReturnType<
  typeof parseArgs<{ options: O; strict: true; allowPositionals: boolean }>
>["values"];

/** Whether stack traces and full tool output are wanted. */
export function debugEnabled(): boolean {
  const v = Deno.env.get("CDPO_DEBUG");
  return v !== undefined && v !== "" && v !== "0";
}

/** The one line a task prints for `e` (without the task's name). */
export function errorLine(e: unknown): string {
  const message = e instanceof Error ? e.message : String(e);
  const lines = message.split("\n");
  let first = visible(lines[0].trim());
  if (lines.length > 1 && !debugEnabled()) first += " (CDPO_DEBUG=1 shows the details)";
  if (isUserCaused(e)) return first;
  if (e instanceof Deno.errors.NotCapable) {
    // Deno's advice ("run again with --allow-...") is for the script's author; a task's user
    // needs to know the task's permissions are deliberate.
    return `${first.replace(/, run again with .*$/, "")}: not among this task's permissions ` +
      `(README, "Permissions")`;
  }
  const kind = e instanceof Error ? e.name : typeof e;
  return `internal error (${kind}): ${first}; this is a defect of the kit` +
    (debugEnabled() ? "" : ", CDPO_DEBUG=1 shows the stack trace");
}

/**
 * Parses `args` as the task `spec.name` does, for scripts whose body is top-level code: bad usage
 * prints the usage and exits 2; `--help` prints it and exits 0. Pair with
 * {@linkcode installErrorSurface}.
 */
export function parseCliArgs<O extends ParseArgsOptionsConfig>(
  spec: CliSpec<O>,
  args: string[] = Deno.args,
): { values: CliValues<O>; positionals: string[] } {
  if (args.includes("--help") || args.includes("-h")) {
    console.log(spec.usage);
    Deno.exit(0);
  }
  try {
    return parseArgs({
      args,
      options: spec.options,
      strict: true,
      allowPositionals: spec.positionals ?? false,
    }) as unknown as { values: CliValues<O>; positionals: string[] };
  } catch (e) {
    // node:util's messages end with advice meant for its own API; the usage says it better.
    const message = (e as Error).message.split(". To specify")[0].replace(/\.$/, "");
    console.error(`${spec.name}: ${visible(message)}\n${spec.usage}`);
    Deno.exit(2);
  }
}

/**
 * Makes an error that escapes a script's top-level code print as {@linkcode runCli} prints it
 * (one line, exit 1; the details with CDPO_DEBUG=1), running the shutdown hooks first.
 */
export function installErrorSurface(name: string): void {
  installSignalHandlers(name);
  const report = (e: unknown) => {
    runShutdownHooks();
    console.error(`${name}: ${errorLine(e)}`);
    if (debugEnabled()) console.error(describeFully(e));
    Deno.exit(1);
  };
  globalThis.addEventListener("unhandledrejection", (event) => {
    event.preventDefault();
    report(event.reason);
  });
  globalThis.addEventListener("error", (event) => {
    event.preventDefault();
    report(event.error);
  });
}

/**
 * Runs `main` as the task `spec.name` and exits with its status (0 when it returns nothing).
 *
 * @example
 * ```ts ignore
 * await runCli({ name: "figures", usage: "usage: ...", options: { run: { type: "string" } } },
 *   async (values) => { if (!values.run) throw new UsageError("--run DIR is required"); });
 * ```
 */
export async function runCli<O extends ParseArgsOptionsConfig>(
  spec: CliSpec<O>,
  main: (values: CliValues<O>, positionals: string[]) => Promise<number | void>,
  args: string[] = Deno.args,
): Promise<never> {
  installSignalHandlers(spec.name);
  let code: number;
  try {
    code = await runMain(spec, main, args);
  } finally {
    runShutdownHooks();
  }
  Deno.exit(code);
}

async function runMain<O extends ParseArgsOptionsConfig>(
  spec: CliSpec<O>,
  main: (values: CliValues<O>, positionals: string[]) => Promise<number | void>,
  args: string[],
): Promise<number> {
  const parsed = parseCliArgs(spec, args);
  try {
    return (await main(parsed.values, parsed.positionals)) ?? 0;
  } catch (e) {
    if (e instanceof UsageError) {
      console.error(`${spec.name}: ${visible(e.message)}\n${spec.usage}`);
      return 2;
    }
    console.error(`${spec.name}: ${errorLine(e)}`);
    if (debugEnabled()) console.error(describeFully(e));
    return 1;
  }
}

/** The stack, the cause chain and any details an error carries (CDPO_DEBUG=1). */
function describeFully(e: unknown): string {
  const parts: string[] = [];
  let current: unknown = e;
  for (let depth = 0; current !== undefined && depth < 5; depth++) {
    if (current instanceof Error) {
      parts.push(current.stack ?? `${current.name}: ${current.message}`);
      const details = (current as { details?: { traceback?: string } }).details;
      if (details?.traceback) parts.push(details.traceback);
      current = current.cause;
      if (current !== undefined) parts.push("caused by:");
    } else {
      parts.push(String(current));
      current = undefined;
    }
  }
  return parts.join("\n");
}
