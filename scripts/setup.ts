/**
 * `deno task setup`: installs what the kit needs, idempotently. A marker in `.cache/setup.json`
 * (keyed by the hash of trainer/pyproject.toml and this Deno) makes the second run cost nothing.
 * Whatever cannot be installed is said in one line and the kit degrades (e.g. HTML-only figures).
 *
 * `--vllm` also installs the pinned CPU build of vLLM in a venv of its own (.cache/vllm/venv,
 * about 3.4 GB; src/setup/vllm_env.ts), which the `vllm` backend and `deno task test-engines`
 * use; it is never installed by default.
 *
 *   deno run -A scripts/setup.ts [--quiet] [--force] [--vllm]
 */
import { existsSync } from "node:fs";
import { join } from "node:path";
import { kitPaths } from "../src/paths.ts";
import { sha256, sha256File } from "../src/io/hash.ts";
import { writeJsonAtomic } from "../src/io/atomic.ts";
import { ensurePythonEnv } from "../src/setup/python_env.ts";
import { ensureKernelSpec } from "../src/setup/kernelspec.ts";
import { ensureChromium } from "../src/setup/chromium.ts";
import { errorLine, installErrorSurface, parseCliArgs } from "../src/cli/main.ts";
import { ensureVllmEnv } from "../src/setup/vllm_env.ts";
import { Trainer } from "../src/trainer/client.ts";
import { resolveModelPath, SMOLLM2_135M_INSTRUCT } from "../src/lm/model_path.ts";

interface Marker {
  pyprojectHash: string;
  deno: string;
  python: string;
  chromium: string;
  chromiumOk: boolean;
}

installErrorSurface("setup");
const { values } = parseCliArgs({
  name: "setup",
  usage: "usage: deno task setup [--quiet] [--force] [--vllm]",
  options: {
    quiet: { type: "boolean", default: false },
    force: { type: "boolean", default: false },
    vllm: { type: "boolean", default: false },
  },
});
const { quiet, force, vllm: withVllm } = values as {
  quiet: boolean;
  force: boolean;
  vllm: boolean;
};
const log = (line: string) => console.error(line);
const started = performance.now();

// Both files that say what the venv holds: a change to either reinstalls.
const pyprojectHash = await sha256(
  (await sha256File(join(kitPaths.trainer, "pyproject.toml"))) +
    (await sha256File(kitPaths.trainerModelRequirements)),
);
let marker: Marker | null = null;
if (!force && existsSync(kitPaths.setupMarker)) {
  try {
    marker = JSON.parse(await Deno.readTextFile(kitPaths.setupMarker));
  } catch {
    marker = null; // A corrupt marker only means we check everything again.
  }
}

const upToDate = marker !== null && marker.pyprojectHash === pyprojectHash &&
  marker.deno === Deno.execPath() &&
  existsSync(join(kitPaths.kernelDir, "kernel.json")) &&
  (Deno.env.get("CDPO_PYTHON")
    ? marker.python === Deno.env.get("CDPO_PYTHON")
    : existsSync(kitPaths.venvPython));

/** The vLLM environment, on request only; its own marker makes a second run instant. */
async function vllmStep(): Promise<void> {
  if (!withVllm) return;
  try {
    log(`setup: vLLM: ${await ensureVllmEnv(log, force)}`);
  } catch (e) {
    console.error(`setup: ${(e as Error).message}`);
    Deno.exit(1);
  }
}

if (upToDate) {
  if (!quiet) {
    console.log(`setup: up to date (${((performance.now() - started) / 1000).toFixed(2)} s)`);
  }
  await vllmStep();
  Deno.exit(0);
}

try {
  const python = await ensurePythonEnv(marker?.pyprojectHash !== pyprojectHash || force, log);
  const kernel = await ensureKernelSpec();
  // Chromium: try once; a failed install is remembered so later runs do not retry every time.
  const chromium = marker && !marker.chromiumOk && !force
    ? { ok: false, status: marker.chromium }
    : await ensureChromium(log);
  if (!chromium.ok) log(`setup: Chromium ${chromium.status}`);
  if (python.source === "venv") await convertShippedModel(log);
  const next: Marker = {
    pyprojectHash,
    deno: Deno.execPath(),
    python: python.python,
    chromium: chromium.status,
    chromiumOk: chromium.ok,
  };
  await writeJsonAtomic(kitPaths.setupMarker, next);
  const seconds = ((performance.now() - started) / 1000).toFixed(1);
  log(
    `setup: done in ${seconds} s (python: ${python.source}; kernelspec: ${kernel}; chromium: ${chromium.status})`,
  );
} catch (e) {
  console.error(`setup: ${errorLine(e)}`);
  Deno.exit(1);
}
await vllmStep();

/**
 * Converts the GGUF that trainer/requirements-models.txt installs (SmolLM2-135M-Instruct) into
 * its cached Hugging Face directory once, here, rather than in several tests at the same time.
 */
async function convertShippedModel(log: (line: string) => void): Promise<void> {
  log("setup: converting SmolLM2-135M-Instruct's GGUF once into .cache/models (about a minute)");
  const trainer = await Trainer.start();
  try {
    await resolveModelPath(SMOLLM2_135M_INSTRUCT, trainer);
  } finally {
    await trainer.close();
  }
}
