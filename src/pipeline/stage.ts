/**
 * Stages over one run directory: each declares its inputs (the settings it reads, the keys of
 * the stages it depends on, and the code it runs) and its outputs. A stage's key hashes its
 * name, its settings, its upstream keys and the identity of its code (the TypeScript module
 * graph of its modules, the trainer files it runs, the pinned dependency versions; see
 * code_identity.ts), so results never outlive the code that made them. A finished stage leaves
 * `stages/<name>/done.json` with its key, its inputs and the hash of every output file; a stage
 * whose key matches and whose outputs are intact is skipped, so an interrupted run resumes where
 * it stopped. A stage whose inputs changed is an error naming the stage and what changed (a
 * setting, an upstream stage, or a source file) unless forced; a stage whose outputs are
 * missing or corrupt simply runs again.
 *
 * @module
 */
import { existsSync } from "node:fs";
import { join, relative } from "node:path";
import { canonicalJson, hashJson, sha256File } from "../io/hash.ts";
import { writeJsonAtomic } from "../io/atomic.ts";
import { runPaths } from "../run/paths.ts";
import { changedCode, type CodeIdentity, codeIdentity } from "./code_identity.ts";

/** Version of done.json's layout; records of other versions were made by another kit. */
export const STAGE_RECORD_FORMAT = 2;

/** What a stage's key hashes. */
export interface StageInputs {
  stage: string;
  config: unknown;
  upstream: Record<string, string>;
  code: CodeIdentity;
}

/** The record a finished stage leaves. */
export interface StageRecord {
  format: typeof STAGE_RECORD_FORMAT;
  stage: string;
  key: string;
  inputs: StageInputs;
  /** Output path (relative to the run) -> sha256 of the file, or of a folder's listing. */
  outputs: Record<string, string>;
  seconds: number;
}

/** A stage's inputs differ from those of the run directory it is asked to resume. */
export class StageMismatchError extends Error {
  constructor(readonly stage: string, readonly runDir: string, readonly differing: string[]) {
    super(
      `Cannot resume ${runDir}: stage '${stage}' was made with different inputs ` +
        `(${
          differing.join(", ") || "upstream results"
        }). Use another --out, or --force to recompute it.`,
    );
    this.name = "StageMismatchError";
  }
}

/** The run directory's record of a stage was written by an older kit (its key ignored code). */
export class OlderKitRunError extends Error {
  constructor(readonly stage: string, readonly runDir: string) {
    super(
      `Cannot resume ${runDir}: stage '${stage}' was recorded by an older cdpo-kit, whose stage ` +
        "keys did not cover the code that made the results, so they cannot be trusted to match " +
        "this code. Its tables and figures still open (`deno task figures --run`); to continue, " +
        "use another --out, or --force to recompute.",
    );
    this.name = "OlderKitRunError";
  }
}

/** What the runner needs of a stage. */
export interface StageSpec {
  name: string;
  /** JSON-able settings the stage reads; upstream keys and the code identity are added by the runner. */
  inputs: unknown;
  /** Names of stages whose outputs it reads. */
  after: string[];
  /**
   * The TypeScript modules whose code the stage runs (their `import.meta.url`; the runner hashes
   * each one's whole import graph).
   */
  code: string[];
  /** The trainer modules (dotted names) of the ops it requests, if it calls the trainer. */
  trainer?: string[];
  /** Files or folders (absolute) the stage must produce. */
  outputs: string[];
  /**
   * Does the work. `workDir` (inside stages/<name>/) survives an interruption and is emptied
   * when the inputs change, so long stages can keep finished chunks there and resume.
   */
  run: (workDir: string) => Promise<void>;
}

/** How a stage ended. */
export type StageOutcome = "ran" | "cached";

/** Runs stages in order over `runDir`, skipping those already done with the same inputs. */
export class StageRunner {
  readonly records = new Map<string, StageRecord>();

  constructor(
    readonly runDir: string,
    readonly options: { force?: boolean; log?: (line: string) => void } = {},
  ) {}

  async run(spec: StageSpec): Promise<StageOutcome> {
    const upstream: Record<string, string> = {};
    for (const dep of spec.after) {
      const rec = this.records.get(dep);
      if (!rec) {
        throw new Error(`Cannot run stage '${spec.name}': it needs '${dep}', which has not run`);
      }
      upstream[dep] = rec.key;
    }
    const inputs: StageInputs = {
      stage: spec.name,
      config: spec.inputs,
      upstream,
      code: await codeIdentity(spec.code, spec.trainer ?? []),
    };
    const key = await hashJson(inputs);
    const donePath = runPaths(this.runDir).stageRecord(spec.name);
    const previous = await readRecord(donePath);
    if (previous && previous.format !== STAGE_RECORD_FORMAT && !this.options.force) {
      throw new OlderKitRunError(spec.name, this.runDir);
    }
    if (previous?.format === STAGE_RECORD_FORMAT) {
      if (previous.key !== key && !this.options.force) {
        throw new StageMismatchError(
          spec.name,
          this.runDir,
          describeChange(previous.inputs, inputs),
        );
      }
      if (previous.key === key && (await this.#intact(previous))) {
        this.records.set(spec.name, previous);
        return "cached";
      }
      if (previous.key === key) {
        this.options.log?.(`stage ${spec.name}: outputs missing or corrupt, running it again`);
      }
    }
    const started = performance.now();
    const workDir = await prepareWorkDir(runPaths(this.runDir).stageWork(spec.name), key);
    await spec.run(workDir);
    const outputs: Record<string, string> = {};
    for (const path of spec.outputs) {
      if (!existsSync(path)) {
        throw new Error(`Stage '${spec.name}' finished without writing ${path}`);
      }
      outputs[relative(this.runDir, path)] = await fingerprint(path);
    }
    const record: StageRecord = {
      format: STAGE_RECORD_FORMAT,
      stage: spec.name,
      key,
      inputs,
      outputs,
      seconds: Math.round((performance.now() - started) / 10) / 100,
    };
    // Written last: a stage interrupted before this line is simply run again.
    await writeJsonAtomic(donePath, record);
    this.records.set(spec.name, record);
    return "ran";
  }

  async #intact(record: StageRecord): Promise<boolean> {
    for (const [rel, hash] of Object.entries(record.outputs)) {
      const path = join(this.runDir, rel);
      if (!existsSync(path) || (await fingerprint(path)) !== hash) return false;
    }
    return true;
  }
}

/** Keeps a stage's work folder only if it was made for the same inputs. */
async function prepareWorkDir(dir: string, key: string): Promise<string> {
  const keyFile = join(dir, "KEY");
  const current = existsSync(keyFile) ? (await Deno.readTextFile(keyFile)).trim() : null;
  if (current !== key) {
    await Deno.remove(dir, { recursive: true }).catch(() => {});
    await Deno.mkdir(dir, { recursive: true });
    await Deno.writeTextFile(keyFile, key + "\n");
  }
  return dir;
}

async function readRecord(path: string): Promise<StageRecord | null> {
  if (!existsSync(path)) return null;
  try {
    const rec = JSON.parse(await Deno.readTextFile(path)) as StageRecord;
    return typeof rec.key === "string" && rec.outputs ? rec : null;
  } catch {
    return null; // A corrupt record only means the stage runs again.
  }
}

/** What differs between a recorded stage's inputs and this run's: settings, upstream stages, files. */
function describeChange(before: StageInputs, after: StageInputs): string[] {
  const out = differingKeys(before.config, after.config).map((k) => `setting ${k}`);
  const upstream = differingKeys(before.upstream, after.upstream);
  if (upstream.length > 0) out.push(`upstream stage ${upstream.join(", ")}`);
  out.push(...changedCode(before.code, after.code).map((c) => `code: ${c}`));
  return out.slice(0, 6);
}

/**
 * A file's sha256; a folder's is the sha256 of its sorted listing of (path, size, sha256 of
 * small files), so a half-copied model directory is noticed.
 */
export async function fingerprint(path: string): Promise<string> {
  const info = await Deno.stat(path);
  if (info.isFile) return await sha256File(path);
  const entries: string[] = [];
  const walk = async (dir: string) => {
    const names = [...Deno.readDirSync(dir)].sort((a, b) => (a.name < b.name ? -1 : 1));
    for (const e of names) {
      const p = join(dir, e.name);
      if (e.isDirectory) await walk(p);
      else {
        const st = await Deno.stat(p);
        entries.push(
          `${relative(path, p)}\t${st.size}\t${
            st.size < 64 * 1024 * 1024 ? await sha256File(p) : ""
          }`,
        );
      }
    }
  };
  await walk(path);
  return await hashJson(entries);
}

/** Dotted paths at which two JSON values differ (for the mismatch message), at most 5. */
export function differingKeys(a: unknown, b: unknown, prefix = ""): string[] {
  if (canonicalJson(a) === canonicalJson(b)) return [];
  const isObj = (x: unknown): x is Record<string, unknown> =>
    typeof x === "object" && x !== null && !Array.isArray(x);
  if (!isObj(a) || !isObj(b)) return [prefix || "(root)"];
  const keys = [...new Set([...Object.keys(a), ...Object.keys(b)])].sort();
  const out: string[] = [];
  for (const k of keys) {
    out.push(...differingKeys(a[k], b[k], prefix ? `${prefix}.${k}` : k));
    if (out.length >= 5) break;
  }
  return out.slice(0, 5);
}
