/**
 * The check before a trainer starts its ranks from an accelerate config: a config this machine
 * cannot run (more processes than devices, DeepSpeed not installed, several machines) becomes one
 * line, from `python -m cdpo_trainer --accelerate CONFIG --check` (trainer/cdpo_trainer/serve/launch.py),
 * before any process is launched.
 *
 * @module
 */
import { kitPaths } from "../paths.ts";
import { TrainerError } from "./errors.ts";

/** Throws a {@linkcode TrainerError} whose message is the launcher's one line when `config` cannot run here. */
export async function checkAccelerateConfig(python: string, config: string): Promise<void> {
  let out: Deno.CommandOutput;
  try {
    out = await new Deno.Command(python, {
      args: ["-m", "cdpo_trainer", "--accelerate", config, "--check"],
      cwd: kitPaths.root,
      env: { PYTHONPATH: kitPaths.trainer },
      stdin: "null",
    }).output();
  } catch (e) {
    throw new TrainerError("crashed", `Cannot start trainer: ${python}: ${(e as Error).message}`, {
      exitCode: null,
      stderrTail: "",
    }, { cause: e });
  }
  if (out.code === 0) return;
  const lines = new TextDecoder().decode(out.stderr).trim().split("\n");
  const line = lines.findLast((l) => l.startsWith("Cannot launch the trainer")) ?? lines.at(-1) ??
    "";
  throw new TrainerError("crashed", line || `Cannot launch the trainer with ${config}`, {
    exitCode: out.code,
    stderrTail: "",
  });
}
