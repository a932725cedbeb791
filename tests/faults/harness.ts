/**
 * What the fault-matrix cases share: a scratch folder per case, the kit's scripts and tasks run
 * as real processes, snapshots of a folder to say exactly what a command left on disk, and the
 * finished smoke run every case starts from (runs/smoke; made here when missing).
 *
 * @module
 */
import { existsSync } from "node:fs";
import { join, relative } from "node:path";
import { kitPaths } from "../../src/paths.ts";
import { sha256File } from "../../src/io/hash.ts";

/** The finished run the cases copy or compare with. */
export const REFERENCE = join(kitPaths.runs, "smoke");

/** What one command did. */
export interface Ran {
  /** The command as a user would type it (scratch paths as $TMP, the kit as .). */
  command: string;
  code: number;
  stdout: string;
  stderr: string;
}

/** A case's scratch folder. */
export class Scratch {
  private constructor(readonly dir: string) {}

  static async create(): Promise<Scratch> {
    return new Scratch(await Deno.makeTempDir({ prefix: "fault-" }));
  }

  path(...parts: string[]): string {
    return join(this.dir, ...parts);
  }

  /** `text` with this folder shown as $TMP and the kit's root as `.`. */
  show(text: string): string {
    return text.replaceAll(this.dir, "$TMP").replaceAll(kitPaths.root + "/", "./")
      .replaceAll(kitPaths.root, ".");
  }

  /** Runs `deno run -A scripts/<script> args` (what tests run; tasks narrow the permissions). */
  script(script: string, args: string[], env: Record<string, string> = {}): Promise<Ran> {
    return this.#run(
      ["run", "-A", join(kitPaths.root, "scripts", script), ...args],
      `deno run -A scripts/${script} ${args.join(" ")}`,
      env,
    );
  }

  /** Runs `deno task <name> args` as a user does, with the task's own permissions. */
  task(name: string, args: string[]): Promise<Ran> {
    return this.#run(["task", "-q", name, ...args], `deno task ${name} ${args.join(" ")}`, {});
  }

  /** Starts `deno run -A scripts/<script> args` and returns the child (stderr piped). */
  spawn(script: string, args: string[]): { child: Deno.ChildProcess; command: string } {
    const child = new Deno.Command(Deno.execPath(), {
      args: ["run", "-A", join(kitPaths.root, "scripts", script), ...args],
      cwd: kitPaths.root,
      env: { NO_COLOR: "1", CDPO_DEBUG: "" },
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
    }).spawn();
    return { child, command: this.show(`deno run -A scripts/${script} ${args.join(" ")}`) };
  }

  async #run(args: string[], shown: string, env: Record<string, string>): Promise<Ran> {
    const out = await new Deno.Command(Deno.execPath(), {
      args,
      cwd: kitPaths.root,
      env: { NO_COLOR: "1", CDPO_DEBUG: "", ...env },
      stdout: "piped",
      stderr: "piped",
    }).output();
    const dec = new TextDecoder();
    return {
      command: this.show(shown),
      code: out.code,
      stdout: dec.decode(out.stdout),
      stderr: dec.decode(out.stderr),
    };
  }

  async remove(): Promise<void> {
    await Deno.remove(this.dir, { recursive: true }).catch(() => {});
  }
}

/** Every file under `dir` (relative path -> sha256); an absent folder has none. */
export async function snapshot(dir: string): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  if (!existsSync(dir)) return out;
  const walk = async (d: string) => {
    for (const e of [...Deno.readDirSync(d)].sort((a, b) => a.name.localeCompare(b.name))) {
      const p = join(d, e.name);
      if (e.isDirectory) await walk(p);
      else if (e.isFile) out.set(relative(dir, p), await sha256File(p));
    }
  };
  await walk(dir);
  return out;
}

/** What changed between two snapshots, as one sentence ("nothing changed" when equal). */
export function describeChanges(before: Map<string, string>, after: Map<string, string>): string {
  const added = [...after.keys()].filter((k) => !before.has(k));
  const removed = [...before.keys()].filter((k) => !after.has(k));
  const changed = [...before.keys()].filter((k) => after.has(k) && after.get(k) !== before.get(k));
  if (added.length + removed.length + changed.length === 0) {
    return `nothing changed (${before.size} files byte-identical)`;
  }
  const list = (xs: string[]) =>
    xs.length > 4 ? `${xs.slice(0, 4).join(", ")}, ... (${xs.length})` : xs.join(", ");
  return [
    added.length ? `added ${list(added)}` : "",
    removed.length ? `removed ${list(removed)}` : "",
    changed.length ? `changed ${list(changed)}` : "",
  ].filter(Boolean).join("; ");
}

/** Copies the finished reference run to `to` (cp -r: models included). */
export async function copyReference(to: string): Promise<void> {
  await ensureReference();
  const res = await new Deno.Command("cp", { args: ["-r", REFERENCE, to] }).output();
  if (!res.success) throw new Error(`cp -r ${REFERENCE} ${to} failed`);
}

/** The smoke preset with `edit` applied, written to `path`. */
export async function smokeConfig(
  path: string,
  edit: (config: Record<string, Record<string, unknown>>) => void = () => {},
): Promise<string> {
  const config = JSON.parse(await Deno.readTextFile(join(kitPaths.presets, "smoke.json")));
  delete config._comment;
  edit(config);
  await Deno.writeTextFile(path, JSON.stringify(config, null, 2) + "\n");
  return path;
}

/**
 * `reproduce` as a user starts it (`deno run -A scripts/reproduce.ts --preset P --out DIR ...`),
 * from the kit's folder, stdout and stderr piped unless `stdout` says otherwise.
 */
export function reproduceCommand(
  preset: string,
  out: string,
  extra: string[] = [],
  stdout: "piped" | "null" = "piped",
): Deno.Command {
  return new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "-A",
      join(kitPaths.root, "scripts", "reproduce.ts"),
      "--preset",
      preset,
      "--out",
      out,
      ...extra,
    ],
    cwd: kitPaths.root,
    stdout,
    stderr: "piped",
  });
}

/** Makes runs/smoke when it is missing (`deno task test` makes it first). */
export async function ensureReference(): Promise<void> {
  if (existsSync(join(REFERENCE, "report.md"))) return;
  const res = await reproduceCommand("smoke", REFERENCE, [], "null").output();
  if (!res.success) {
    throw new Error(`the reference run failed: ${new TextDecoder().decode(res.stderr)}`);
  }
}

/** The files a run's results consist of (data, tables, figures, report.md), path -> sha256. */
export async function resultFiles(dir: string): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  for (const sub of ["data", "tables", "figures"]) {
    for (const [k, v] of await snapshot(join(dir, sub))) out.set(`${sub}/${k}`, v);
  }
  out.set("report.md", await sha256File(join(dir, "report.md")));
  return out;
}

/** report.md without what names the run (title, run line) and its stage timings. */
export function withoutRunFacts(report: string): string {
  return report
    .replace(/^# cdpo-kit report: .*$/m, "# cdpo-kit report")
    .replace(/^run `[^`]*`/m, "run")
    .replace(/^## Stage timings\n[\s\S]*?(?=^## )/m, "");
}

/** Whether a run's results equal the reference's (report.md compared without its run facts). */
export async function sameResultsAsReference(
  dir: string,
): Promise<{ ok: boolean; detail: string }> {
  const mine = await resultFiles(dir);
  const ref = await resultFiles(REFERENCE);
  const differing = [...new Set([...mine.keys(), ...ref.keys()])].filter((k) =>
    k !== "report.md" && mine.get(k) !== ref.get(k)
  );
  const report = withoutRunFacts(await Deno.readTextFile(join(dir, "report.md"))) ===
    withoutRunFacts(await Deno.readTextFile(join(REFERENCE, "report.md")));
  if (!report) differing.push("report.md");
  return {
    ok: differing.length === 0,
    detail: differing.length === 0
      ? `data, tables, figures and report.md identical to an uninterrupted run (${ref.size} files)`
      : `differs from an uninterrupted run: ${differing.join(", ")}`,
  };
}

/** The lines a user sees on stderr, without progress lines. */
export function userLines(stderr: string): string[] {
  return stderr.split("\n").map((l) => l.trimEnd()).filter((l) => l.length > 0);
}
