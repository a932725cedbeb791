/** Running a child process to completion, for set-up steps. @module */

/** What a finished command printed and how it ended. */
export interface CommandOutput {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs `cmd args...`; never throws for a non-zero exit (the caller decides), only when absent. */
export async function runCommand(
  cmd: string,
  args: string[],
  options: { cwd?: string; env?: Record<string, string>; inherit?: boolean } = {},
): Promise<CommandOutput> {
  const out = await new Deno.Command(cmd, {
    args,
    cwd: options.cwd,
    env: options.env,
    stdin: "null",
    stdout: options.inherit ? "inherit" : "piped",
    stderr: options.inherit ? "inherit" : "piped",
  }).output();
  const decode = (b: Uint8Array | null) => (b ? new TextDecoder().decode(b) : "");
  return {
    code: out.code,
    stdout: options.inherit ? "" : decode(out.stdout),
    stderr: options.inherit ? "" : decode(out.stderr),
  };
}
