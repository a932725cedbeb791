/**
 * The project's Jupyter kernelspec for the Deno kernel. It lives in `.cache/jupyter/kernels/`
 * and is found through `JUPYTER_PATH`, so nothing is written outside the repository.
 *
 * @module
 */
import { kitPaths } from "../paths.ts";
import { writeFileAtomic } from "../io/atomic.ts";

/** The kernel name notebooks refer to in their metadata. */
export const KERNEL_NAME = "cdpo-deno";

/** The kernel.json for this Deno executable. */
export function kernelSpec(denoPath: string): Record<string, unknown> {
  return {
    argv: [denoPath, "jupyter", "--kernel", "--conn", "{connection_file}"],
    display_name: "Deno (cdpo-kit)",
    language: "typescript",
    // Colour codes would end up in saved notebook outputs.
    env: { NO_COLOR: "1" },
  };
}

/** Writes the kernelspec (idempotent: same bytes for the same Deno). */
export async function ensureKernelSpec(denoPath: string = Deno.execPath()): Promise<string> {
  await Deno.mkdir(kitPaths.kernelDir, { recursive: true });
  const path = `${kitPaths.kernelDir}/kernel.json`;
  await writeFileAtomic(path, JSON.stringify(kernelSpec(denoPath), null, 2) + "\n");
  return path;
}
