/**
 * `manifest.json` of a run: the resolved config and its source, seeds, the git commit, versions
 * of everything that computed the results, the device, input hashes and per-stage timings.
 *
 * @module
 */
import { writeJsonAtomic } from "../io/atomic.ts";
import { kitPaths } from "../paths.ts";
import type { Environment } from "./environment.ts";
import type { RunConfig } from "./config.ts";

/** One stage's entry. */
export interface ManifestStage {
  name: string;
  outcome: "ran" | "cached";
  /** Seconds of the run that computed it (cached stages keep their original time). */
  seconds: number;
  key: string;
}

/** The manifest's content. */
export interface Manifest {
  kit: "cdpo-kit";
  run: string;
  preset: string;
  source: string;
  config: RunConfig;
  seeds: { run: number; training: number[] };
  git: { commit: string | null; dirty: boolean | null };
  environment: Environment;
  device: { trainer: string; lm: string };
  inputs: Record<string, string>;
  stages: ManifestStage[];
  started: string;
  finished: string | null;
}

/** The checkout's commit and whether it has uncommitted changes (nulls outside git). */
export async function gitState(): Promise<Manifest["git"]> {
  const git = async (...args: string[]) => {
    try {
      const out = await new Deno.Command("git", {
        args,
        cwd: kitPaths.root,
        stdout: "piped",
        stderr: "null",
      }).output();
      return out.code === 0 ? new TextDecoder().decode(out.stdout).trim() : null;
    } catch {
      return null;
    }
  };
  const commit = await git("rev-parse", "HEAD");
  const status = await git("status", "--porcelain", "--untracked-files=no");
  return { commit, dirty: status === null ? null : status.length > 0 };
}

/** Writes the manifest atomically. */
export function writeManifest(path: string, manifest: Manifest): Promise<void> {
  return writeJsonAtomic(path, manifest);
}
