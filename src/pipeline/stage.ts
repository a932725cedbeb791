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
 * missing or corrupt simply runs again. A stage is done only when every output
 * exists and every table it declares has its columns and, unless the stage allows none, rows:
 * a stage that wrote nothing usable is not recorded as done.
 *
 * {@linkcode StageRunner.plan} checks a whole list of stages against the run directory before
 * any runs, so a rerun that would be refused is refused before it writes anything.
 *
 * @module
 */
import { existsSync } from "node:fs";
import { join, relative } from "node:path";
import { canonicalJson, hashJson, sha256File } from "../io/hash.ts";
import { writeJsonAtomic } from "../io/atomic.ts";
import { UserError } from "../errors.ts";
import { parquetShape } from "../io/parquet.ts";
import { TABLE_COLUMNS, type TableName } from "../run/data.ts";
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
export class StageMismatchError extends UserError {
  constructor(readonly stage: string, readonly runDir: string, readonly differing: string[]) {
    super(
      `Cannot resume ${runDir}: stage '${stage}' was made with different inputs ` +
        `(${
          differing.join(", ") || "upstream results"
        }). Use another --out, or --force to recompute it.`,
    );
  }
}

/** The run directory's record of a stage was written by an older kit (its key ignored code). */
export class OlderKitRunError extends UserError {
  constructor(readonly stage: string, readonly runDir: string) {
    super(
      `Cannot resume ${runDir}: stage '${stage}' was recorded by an older cdpo-kit, whose stage ` +
        "keys did not cover the code that made the results, so they cannot be trusted to match " +
        "this code. Its tables and figures still open (`deno task figures --run`); to continue, " +
        "use another --out, or --force to recompute.",
    );
  }
}

/** A stage finished without the outputs it promised; it is not recorded as done. */
export class StageOutputError extends Error {
  constructor(readonly stage: string, readonly path: string, detail: string) {
    super(`Stage '${stage}' finished without a usable ${path}: ${detail}; it is not marked done`);
    this.name = "StageOutputError";
  }
}

/** A Parquet output of a stage and the run table whose columns it must have. */
export interface TableOutput {
  path: string;
  table: TableName;
  /** Zero rows is a valid outcome of this stage (the report then says "no data"). */
  allowEmpty?: boolean;
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
  /** Which of `outputs` are run tables, checked for their columns and rows before the stage is done. */
  tables?: TableOutput[];
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
    readonly options: {
      force?: boolean;
      log?: (line: string) => void;
      /** Called once a stage is found to need running, before its work starts. */
      beforeRun?: (spec: StageSpec) => Promise<void>;
    } = {},
  ) {}

  /**
   * Checks `specs` (in run order) against the run directory without running or writing
   * anything: throws {@linkcode StageMismatchError} for the first stage whose record was made
   * with other inputs (unless forced). Stages this runner has already run count as upstream, so
   * a session may run its stages in several calls (`deno task tune` does).
   */
  async plan(specs: readonly StageSpec[]): Promise<void> {
    const keys = this.#doneKeys();
    for (const spec of specs) {
      const inputs = await this.#inputs(spec, keys);
      const key = await hashJson(inputs);
      keys.set(spec.name, key);
      this.#check(spec.name, await readRecord(this.#recordPath(spec.name)), inputs, key);
    }
  }

  /** What `spec`'s key hashes, given the keys of the stages before it. */
  async #inputs(spec: StageSpec, keys: ReadonlyMap<string, string>): Promise<StageInputs> {
    return {
      stage: spec.name,
      config: spec.inputs,
      upstream: this.#upstream(spec, keys),
      code: await codeIdentity(spec.code, spec.trainer ?? []),
    };
  }

  /** The keys of the stages this runner has run (or found done), by name. */
  #doneKeys(): Map<string, string> {
    return new Map([...this.records].map(([name, rec]) => [name, rec.key]));
  }

  #recordPath(name: string): string {
    return runPaths(this.runDir).stageRecord(name);
  }

  /** Refuses a recorded stage made by an older kit or with other inputs (unless forced). */
  #check(name: string, previous: StageRecord | null, inputs: StageInputs, key: string): void {
    if (!previous || this.options.force) return;
    if (previous.format !== STAGE_RECORD_FORMAT) throw new OlderKitRunError(name, this.runDir);
    if (previous.key !== key) {
      throw new StageMismatchError(name, this.runDir, describeChange(previous.inputs, inputs));
    }
  }

  #upstream(spec: StageSpec, keys: ReadonlyMap<string, string>): Record<string, string> {
    const upstream: Record<string, string> = {};
    for (const dep of spec.after) {
      const key = keys.get(dep);
      if (key === undefined) {
        throw new Error(`Cannot run stage '${spec.name}': it needs '${dep}', which has not run`);
      }
      upstream[dep] = key;
    }
    return upstream;
  }

  async run(spec: StageSpec): Promise<StageOutcome> {
    const inputs = await this.#inputs(spec, this.#doneKeys());
    const key = await hashJson(inputs);
    const donePath = this.#recordPath(spec.name);
    const previous = await readRecord(donePath);
    this.#check(spec.name, previous, inputs, key);
    if (previous?.format === STAGE_RECORD_FORMAT) {
      if (previous.key === key && (await this.#intact(previous))) {
        this.records.set(spec.name, previous);
        return "cached";
      }
      if (previous.key === key) {
        this.options.log?.(`stage ${spec.name}: outputs missing or corrupt, running it again`);
      }
    }
    await this.options.beforeRun?.(spec);
    const started = performance.now();
    const workDir = await prepareWorkDir(runPaths(this.runDir).stageWork(spec.name), key);
    await spec.run(workDir);
    const outputs: Record<string, string> = {};
    for (const path of spec.outputs) {
      if (!existsSync(path)) throw new StageOutputError(spec.name, path, "it was not written");
      outputs[relative(this.runDir, path)] = await fingerprint(path);
    }
    for (const table of spec.tables ?? []) checkTable(spec.name, table);
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

/** Throws {@linkcode StageOutputError} unless the table has its columns and, unless allowed none, rows. */
function checkTable(stage: string, { path, table, allowEmpty }: TableOutput): void {
  let shape: { columns: string[]; rows: number };
  try {
    shape = parquetShape(path);
  } catch (e) {
    throw new StageOutputError(stage, path, `it is not readable Parquet (${(e as Error).message})`);
  }
  const missing = TABLE_COLUMNS[table].filter((c) => !shape.columns.includes(c));
  if (missing.length > 0) {
    throw new StageOutputError(
      stage,
      path,
      `it lacks column(s) ${missing.join(", ")} (has ${shape.columns.join(", ") || "none"})`,
    );
  }
  if (shape.rows === 0 && !allowEmpty) throw new StageOutputError(stage, path, "it has no rows");
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
  const out = differingKeys(before.config, after.config).map((k) =>
    k === "(root)" ? "settings" : `setting ${k}`
  );
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
