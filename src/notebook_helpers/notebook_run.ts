/**
 * The run a notebook works on: a finished run directory, or (when none is given) the preset's
 * own run, made or resumed on the spot by {@linkcode reproduce} — its stages are cached, so a
 * second notebook on the same preset opens it instantly.
 *
 * @module
 */
import { existsSync } from "node:fs";
import { basename, resolve } from "node:path";
import { PipelineContext } from "../pipeline/context.ts";
import type { Manifest } from "../run/manifest.ts";
import type { ProgressSink } from "../pipeline/progress.ts";
import { reproduce } from "../pipeline/reproduce.ts";
import { loadProblems, type RunProblems } from "../pipeline/problems.ts";
import { resolveRunConfig, type RunConfig } from "../run/config.ts";
import { isOlderConfig, upgradeOlderConfig } from "../run/older_config.ts";
import { type RunPaths, runPaths } from "../run/paths.ts";
import { escapeHtml } from "../plots/html_escape.ts";
import { readRunData, type RunData } from "../run/data.ts";
import { type TextTable, toHtmlTable, toPlainText } from "../report/table_text.ts";

/** Progress for a notebook cell: one line per stage that computes something, nothing for cached ones. */
class CellProgress implements ProgressSink {
  readonly lines: string[] = [];
  start(label: string, total: number): void {
    this.log(`${label}: ${total} to do`);
  }
  update(): void {}
  finish(detail = ""): void {
    if (detail) this.log(detail);
  }
  log(line: string): void {
    if (line.includes("done earlier, skipped")) return;
    this.lines.push(line);
    console.log(line);
  }
}

/** A run directory opened for a notebook: its config, its stored data and its world's problems. */
export class NotebookRun {
  #problems: Promise<RunProblems> | null = null;

  constructor(
    readonly dir: string,
    readonly manifest: Manifest,
    readonly config: RunConfig,
    readonly data: RunData,
    /** Recorded by an older cdpo-kit: its config was read in the current layout. */
    readonly olderKit = false,
  ) {}

  /** The run's name (its folder's name; never a machine path). */
  get name(): string {
    return basename(this.dir);
  }

  /** Every path of the run directory. */
  get paths(): RunPaths {
    return runPaths(this.dir);
  }

  /** The run's base policy: models/base for the embedded world, else the configured checkpoint. */
  get policyDir(): string {
    return this.config.policy.path === null
      ? this.paths.model("base")
      : resolve(this.config.policy.path);
  }

  /** The run's task and problems, loaded as the pipeline loads them (the world is regenerated, about a second). */
  problems(): Promise<RunProblems> {
    // Generating the world blocks the event loop for about a second; yielding first lets the
    // kernel send the previous cell's result before that (else nbclient may drop it).
    this.#problems ??= new Promise((r) => setTimeout(r, 50)).then(() => loadProblems(this.config));
    return this.#problems;
  }

  /**
   * A pipeline context over this run (models open with the run's backend); `config` overrides
   * settings, e.g. more rollout samples. Close it when done.
   */
  async context(config: RunConfig = this.config): Promise<PipelineContext> {
    const { task, train, validation, test } = await this.problems();
    const byId = new Map([...train, ...validation, ...test].map((p) => [p.id, p]));
    const quiet = { start() {}, update() {}, finish() {}, log() {} };
    // The hash only keys stage caches, which a notebook never writes.
    return new PipelineContext(this.paths, config, quiet, task, { train, validation, test, byId }, {
      dir: this.policyDir,
      hash: "",
    });
  }

  /** What the run holds, as a table: trajectories, incorrect ones, known first errors, stages. */
  overview(): TextTable {
    const t = this.data.trajectories ?? [];
    const count = (split: string) => {
      const rows = t.filter((r) => r.split === split);
      const incorrect = rows.filter((r) => !r.correct);
      return [
        split,
        String(rows.length),
        String(incorrect.length),
        String(incorrect.filter((r) => r.first_error !== null).length),
      ];
    };
    return {
      columns: ["split", "trajectories", "incorrect", "first error known"],
      rows: [count("train"), count("test")],
    };
  }

  #stages(): string {
    return this.manifest.stages.map((s) => `${s.name} (${s.seconds.toFixed(1)} s)`).join(", ");
  }

  /** Notebook display: the run, its preset, its data and how long each stage took. */
  [Symbol.for("Jupyter.display")](): Record<string, string> {
    const head =
      `Run ${this.name} (preset ${basename(this.manifest.preset)}, seed ${this.config.seed}, ` +
      `policy backend ${this.config.policy.backend} on ${this.config.policy.device})`;
    const finished = (this.manifest.finished ? "finished" : "not finished") +
      (this.olderKit
        ? ", recorded by an older cdpo-kit (its settings read in the current layout)"
        : "");
    return {
      "text/html": `<div><p><b>${escapeHtml(head)}</b>, ${finished}.</p>` +
        toHtmlTable(this.overview(), "Sampled trajectories") +
        `<p style="font-size:12px;color:#555">Stages: ${escapeHtml(this.#stages())}</p></div>`,
      "text/plain": `${head}, ${finished}\n${
        toPlainText(this.overview())
      }\nStages: ${this.#stages()}`,
    };
  }
}

/** Opens `dir` as a finished run (throws naming what is missing). */
export function readNotebookRun(dir: string): NotebookRun {
  const paths = runPaths(resolve(dir));
  if (!existsSync(paths.manifest)) {
    throw new Error(
      `Cannot open run ${
        basename(paths.dir)
      }: it has no manifest.json; pass a folder written by \`deno task reproduce\``,
    );
  }
  const manifest = JSON.parse(Deno.readTextFileSync(paths.manifest)) as Manifest;
  const olderKit = isOlderConfig(manifest.config);
  const config = resolveRunConfig(upgradeOlderConfig(manifest.config), paths.manifest);
  return new NotebookRun(paths.dir, manifest, config, readRunData(paths.dir), olderKit);
}

/**
 * The run of a notebook's parameters: `runDir` when set, else the `preset`'s run in runs/,
 * made or resumed now (only stages that compute something print a line).
 */
export async function openRun(runDir: string | null, preset = "smoke"): Promise<NotebookRun> {
  if (runDir !== null) return readNotebookRun(runDir);
  const { runDir: made } = await reproduce({ preset, progress: new CellProgress() });
  return readNotebookRun(made);
}
