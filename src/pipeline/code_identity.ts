/**
 * The code a stage runs, as content hashes, so that a stage's key changes when its code does
 * (as DVC lists code among a stage's dependencies): the TypeScript module graph of the stage's
 * modules (from `deno info --json`), the npm packages of that graph with their exact versions,
 * and, for stages that call the trainer, the trainer package's files reachable from the modules
 * it serves the stage with, plus the trainer's pinned dependencies.
 *
 * Paths are relative to the kit's root, so the record names the file that changed and a kit
 * checked out elsewhere computes the same identity.
 *
 * @module
 */
import { existsSync } from "node:fs";
import { join, relative } from "node:path";
import { fileURLToPath } from "node:url";
import { sha256File } from "../io/hash.ts";
import { KIT_ROOT } from "../paths.ts";

/** The code behind one stage. */
export interface CodeIdentity {
  /** Kit-relative path -> sha256 of every local TypeScript module in the stage's import graph. */
  modules: Record<string, string>;
  /** The graph's npm packages, `name@version`, sorted. */
  npm: string[];
  /** Kit-relative path -> sha256 of the trainer files the stage runs; absent without the trainer. */
  trainer?: Record<string, string>;
  /** sha256 of the trainer's pinned dependencies (its pyproject.toml); absent without the trainer. */
  trainerPins?: string;
}

/** Where the code lives; tests point it at a copy of the kit. */
export interface CodeRoots {
  /** The folder the paths are made relative to (the kit's root). */
  root: string;
  /** The folder holding the `cdpo_trainer` package and pyproject.toml. */
  trainer: string;
}

const KIT_ROOTS: CodeRoots = { root: KIT_ROOT, trainer: join(KIT_ROOT, "trainer") };

/** The trainer modules every request runs through: the server, its protocol and params. */
const TRAINER_ALWAYS = ["cdpo_trainer.serve.server"];
/**
 * The entry point and the op table run for every request too, but only to dispatch: their own
 * files count, the other concerns they import do not (editing the world's ops must not change
 * the key of a training stage).
 */
const TRAINER_DISPATCH = ["cdpo_trainer/__main__.py", "cdpo_trainer/serve/ops.py"];

/**
 * The identity of the code of `modules` (file URLs or paths of TypeScript modules) and, when
 * given, of the trainer modules (dotted names such as `cdpo_trainer.train.ops`).
 */
export async function codeIdentity(
  modules: readonly string[],
  trainerModules: readonly string[] = [],
  roots: CodeRoots = KIT_ROOTS,
): Promise<CodeIdentity> {
  const graph = await moduleGraph(modules);
  const identity: CodeIdentity = {
    modules: await hashFiles(graph.files, roots.root),
    npm: graph.npm,
  };
  if (trainerModules.length > 0) {
    const files = [
      ...trainerFiles([...TRAINER_ALWAYS, ...trainerModules], roots.trainer),
      ...TRAINER_DISPATCH.map((f) => join(roots.trainer, f)),
    ];
    identity.trainer = await hashFiles(files, roots.root);
    identity.trainerPins = await sha256File(join(roots.trainer, "pyproject.toml"));
  }
  return identity;
}

/** Local files and npm packages of the import graph of `modules`, through `deno info --json`. */
async function moduleGraph(
  modules: readonly string[],
): Promise<{ files: string[]; npm: string[] }> {
  const files = new Set<string>();
  const npm = new Set<string>();
  for (const module of modules) {
    const path = module.startsWith("file:") ? fileURLToPath(module) : module;
    const out = await new Deno.Command(Deno.execPath(), {
      args: ["info", "--json", path],
      stdout: "piped",
      stderr: "piped",
      env: { NO_COLOR: "1" },
    }).output();
    if (out.code !== 0) {
      throw new Error(
        `Cannot hash the code of ${path}: deno info failed (${
          new TextDecoder().decode(out.stderr).trim().split("\n").at(-1)
        })`,
      );
    }
    const info = JSON.parse(new TextDecoder().decode(out.stdout)) as {
      modules: { specifier: string; kind?: string; local?: string }[];
      npmPackages?: Record<string, unknown>;
    };
    for (const m of info.modules) {
      if (m.specifier.startsWith("file:")) files.add(m.local ?? fileURLToPath(m.specifier));
    }
    for (const name of Object.keys(info.npmPackages ?? {})) npm.add(name);
  }
  return { files: [...files].sort(), npm: [...npm].sort() };
}

async function hashFiles(files: readonly string[], root: string): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  for (const file of [...files].sort()) {
    out[relative(root, file)] = await sha256File(file);
  }
  return out;
}

/**
 * The trainer package's files that importing `modules` can run: each module's file, the
 * `__init__.py` of every package on its path, and, transitively, every `cdpo_trainer` module it
 * imports (at the top or inside a function; both run when the op runs).
 */
export function trainerFiles(modules: readonly string[], trainerRoot: string): string[] {
  const seen = new Set<string>();
  const queue = [...modules];
  while (queue.length > 0) {
    const name = queue.pop()!;
    const file = moduleFile(name, trainerRoot);
    if (file === null) {
      throw new Error(
        `Cannot hash the trainer code: module ${name} has no file under ${trainerRoot}`,
      );
    }
    for (const init of packageInits(name, trainerRoot)) seen.add(init);
    if (seen.has(file)) continue;
    seen.add(file);
    queue.push(...importedModules(Deno.readTextFileSync(file), name, trainerRoot));
  }
  return [...seen].sort();
}

/** The file of a dotted module name: `a/b.py` or the package's `a/b/__init__.py`; null if none. */
function moduleFile(name: string, trainerRoot: string): string | null {
  const base = join(trainerRoot, ...name.split("."));
  if (existsSync(`${base}.py`)) return `${base}.py`;
  if (existsSync(join(base, "__init__.py"))) return join(base, "__init__.py");
  return null;
}

/** `__init__.py` of each package that contains module `name` (they run on import). */
function packageInits(name: string, trainerRoot: string): string[] {
  const parts = name.split(".");
  const out: string[] = [];
  for (let i = 1; i < parts.length; i++) {
    const init = join(trainerRoot, ...parts.slice(0, i), "__init__.py");
    if (existsSync(init)) out.push(init);
  }
  return out;
}

/**
 * The `cdpo_trainer` modules a Python source imports: `import cdpo_trainer.x`,
 * `from cdpo_trainer.x import y` (y itself when it is a submodule), and relative imports.
 */
function importedModules(source: string, module: string, trainerRoot: string): string[] {
  // Join parenthesised import lists onto one line so each statement is one match.
  const text = source.replace(
    /\(\s*([^)]*?)\s*\)/gs,
    (_, names: string) => names.replace(/\s+/g, " "),
  );
  const out: string[] = [];
  const packageOf = module.split(".").slice(0, -1);
  for (const line of text.split("\n")) {
    const plain = /^\s*import\s+(cdpo_trainer(?:\.\w+)*)/.exec(line);
    if (plain) out.push(plain[1]);
    const from = /^\s*from\s+(\.*)([\w.]*)\s+import\s+(.+)$/.exec(line);
    if (!from) continue;
    const [, dots, path, names] = from;
    let base: string;
    if (dots.length > 0) {
      const up = packageOf.slice(0, packageOf.length - (dots.length - 1));
      base = [...up, ...(path ? path.split(".") : [])].join(".");
    } else if (path === "cdpo_trainer" || path.startsWith("cdpo_trainer.")) {
      base = path;
    } else continue;
    out.push(base);
    for (const raw of names.split(",")) {
      const name = raw.trim().split(/\s+as\s+/)[0].trim();
      if (/^\w+$/.test(name) && moduleFile(`${base}.${name}`, trainerRoot) !== null) {
        out.push(`${base}.${name}`);
      }
    }
  }
  return out;
}

/** A short label of what changed between two identities, for messages ("src/a.ts changed"). */
export function changedCode(before: CodeIdentity, after: CodeIdentity): string[] {
  const changed: string[] = [];
  const compare = (a: Record<string, string> = {}, b: Record<string, string> = {}) => {
    for (const path of [...new Set([...Object.keys(a), ...Object.keys(b)])].sort()) {
      if (a[path] === undefined) changed.push(`${path} added`);
      else if (b[path] === undefined) changed.push(`${path} removed`);
      else if (a[path] !== b[path]) changed.push(`${path} changed`);
    }
  };
  compare(before.modules, after.modules);
  compare(before.trainer, after.trainer);
  if (before.npm.join() !== after.npm.join()) changed.push("npm package versions changed");
  if (before.trainerPins !== after.trainerPins) changed.push("trainer/pyproject.toml pins changed");
  return changed;
}
