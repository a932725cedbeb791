/**
 * What the vLLM tests need, or the one line saying why they cannot run here: the kit's vLLM
 * environment (`deno task setup --vllm`). The model is SmolLM2-135M-Instruct, converted from the
 * GGUF that `deno task setup` installs (tests/fixtures/real_model.ts).
 */
import { vllmUnavailable } from "../../src/setup/vllm_env.ts";

/** Why the real-server tests are skipped, or null when they can run. */
export function vllmTestsUnavailable(): string | null {
  return vllmUnavailable();
}

/** Process ids whose process group is `pgid` (from /proc), for "no process left behind". */
export function processesInGroup(pgid: number): number[] {
  const found: number[] = [];
  for (const e of Deno.readDirSync("/proc")) {
    if (!/^\d+$/.test(e.name)) continue;
    try {
      const stat = Deno.readTextFileSync(`/proc/${e.name}/stat`);
      // Fields after the command (which may hold spaces) start after the last ')'.
      const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
      if (Number(fields[2]) === pgid && fields[0] !== "Z") found.push(Number(e.name));
    } catch {
      // The process ended while we looked.
    }
  }
  return found;
}

/** Whether process `pid` exists (and is not a zombie). */
export function alive(pid: number): boolean {
  try {
    const stat = Deno.readTextFileSync(`/proc/${pid}/stat`);
    return stat.slice(stat.lastIndexOf(")") + 2)[0] !== "Z";
  } catch {
    return false;
  }
}
