/**
 * The cDPO pipeline end to end over one run directory (docs/architecture.md): world -> sample ->
 * rollouts -> the contrastive models -> ce_scores -> train:* -> evaluate, then the report
 * (tables, figures, report.md) rebuilt from the stored data. Every stage is resumable and
 * skipped when already done with the same inputs and code.
 *
 * @module
 */
import { existsSync } from "node:fs";
import { resolve } from "node:path";
import { copy } from "../io/copy.ts";
import { sha256File } from "../io/hash.ts";
import { kitPaths } from "../paths.ts";
import { describeEnvironment } from "../run/environment.ts";
import { isGgufPath, isPackagePath, resolveModelPath } from "../lm/model_path.ts";
import { buildReport } from "../report/build.ts";
import { PipelineContext } from "./context.ts";
import { gitState, type Manifest, type ManifestStage, writeManifest } from "../run/manifest.ts";
import { ConsoleProgress, type ProgressSink } from "./progress.ts";
import { loadRunConfig, type ResolvedRun, tuningRecordPath } from "../run/config.ts";
import { runPaths } from "../run/paths.ts";
import { RunLock } from "../run/lock.ts";
import { checkModelDir } from "../lm/model_check.ts";
import { onShutdown } from "../cli/shutdown.ts";
import { checkOutDir } from "../cli/out_dir.ts";
import { fingerprint, StageRunner, type StageSpec } from "./stage.ts";
import { buildWorld, type BuiltWorld } from "./world_build.ts";
import { loadProblems, type RunProblems } from "./problems.ts";
import { sampleStage } from "./stages/sample.ts";
import { rolloutsStage } from "./stages/rollouts.ts";
import { ceScoresStage, contrastiveSftStages } from "./stages/contrastive.ts";
import { trainStages } from "./stages/train.ts";
import { evaluateStage } from "./stages/evaluate.ts";
import { Trainer } from "../trainer/client.ts";

/** Options of {@linkcode reproduce}. */
export interface ReproduceOptions {
  /** A preset name or a path to a JSON config. @default {"default"} */
  preset?: string;
  /** The run directory. @default {`runs/<preset>`} */
  out?: string;
  /** Recompute stages whose inputs changed instead of refusing. */
  force?: boolean;
  progress?: ProgressSink;
}

/** An open, locked run: its context and a runner of stage lists that keeps the manifest. */
export interface RunSession {
  ctx: PipelineContext;
  /** The stages that make the run's base policy and carry its tuning record, if any. */
  setup: StageSpec[];
  /**
   * Checks `specs` (in order) against the run directory, then runs or skips each; the first
   * call that has work to do takes over manifest.json.
   */
  run: (specs: readonly StageSpec[]) => Promise<void>;
  /**
   * Records that the run finished: the manifest gets its finish time (kept as it was when
   * nothing ran and the last run had finished). Returns the run's manifest.
   */
  finish: () => Promise<Manifest>;
}

/**
 * Opens the run of `options` and hands it to `work`. Everything the run reads is checked before
 * anything is written: the config (with its cross-field rules), the data files, and the model
 * directories; then the run directory's lock is taken (released on every exit), and each list
 * of stages is checked against what the directory already holds before any of them runs. A
 * rerun that is refused therefore leaves the directory exactly as it was.
 */
export async function withRun<T>(
  options: ReproduceOptions,
  work: (session: RunSession) => Promise<T>,
): Promise<T> {
  const progress = options.progress ?? new ConsoleProgress();
  const resolved = await loadRunConfig(options.preset ?? "default");
  const { config } = resolved;
  const runDir = resolve(options.out ?? `${kitPaths.runs}/${resolved.name}`);
  checkOutDir(runDir, "--out");
  const { backend, device } = config.policy;
  const holder = { trainer: null as Promise<Trainer> | null };
  // With training.accelerateConfig the trainer's training ops run on several ranks.
  const launch = { accelerateConfig: config.training.accelerateConfig ?? undefined };
  const sharedTrainer = () => (holder.trainer ??= Trainer.start(launch));
  // Every way out closes it; closing a closed (or never started) trainer is a no-op.
  const closeTrainer = () => holder.trainer?.then((t) => t.close()).catch(() => {});
  let external: string | null = null;
  let early: RunProblems | null = null;
  try {
    if (config.policy.path !== null) {
      // A .gguf (or a file inside a Python package) becomes its Hugging Face conversion, made
      // once into the kit's cache; the run directory is not touched yet.
      const path = config.policy.path;
      external = isPackagePath(path) || isGgufPath(path)
        ? await resolveModelPath(path, await sharedTrainer(), { log: (l) => progress.log(l) })
        : resolve(path);
      await checkModelDir(external, { backend, device });
    }
    // Real data sets are read (and checked) before anything is written.
    if (config.task.kind !== "world") {
      early = await loadProblems(config, undefined, {
        policyDir: external!,
        trainer: sharedTrainer,
      });
    }
  } catch (e) {
    await closeTrainer();
    throw e;
  }

  const created = !existsSync(runDir);
  await Deno.mkdir(runDir, { recursive: true });
  let lock: RunLock;
  try {
    lock = await RunLock.acquire(runDir, { note: (line) => progress.log(line) });
  } catch (e) {
    if (created) await removeIfEmpty(runDir);
    await closeTrainer();
    throw e;
  }
  // Ctrl-C in a task releases it too (a notebook kernel keeps its own meaning of an interrupt).
  const unhook = onShutdown(() => lock.release());
  try {
    // The embedded world's policy is built (or found) first; an external policy is used in place.
    const world = external === null ? await buildWorld(config, sharedTrainer, progress) : null;
    const source = world ? world.policyDir : external!;
    if (world) await checkModelDir(world.policyDir, { backend, device });
    const problems: RunProblems = early ?? await loadProblems(config, world?.splits);
    const { task, train, validation, test } = problems;
    const byId = new Map([...train, ...validation, ...test].map((p) => [p.id, p]));
    const run = runPaths(runDir);
    // The run's copy of the world policy (stage `world`) has the fingerprint of its source.
    const ctx = new PipelineContext(
      run,
      config,
      progress,
      task,
      { train, validation, test, byId },
      {
        dir: world ? run.model("base") : source,
        hash: await fingerprint(source),
      },
    );
    // The context shares the already running trainer.
    if (holder.trainer) ctx.useTrainer(holder.trainer);
    try {
      return await work(await session(options, resolved, ctx, world));
    } finally {
      await ctx.close();
    }
  } finally {
    await closeTrainer(); // the context closed it when it got that far
    unhook();
    lock.release();
    // A refused first run leaves no empty folder behind.
    if (created) await removeIfEmpty(runDir);
  }
}

/** The session of an open run: its setup stages and a manifest-keeping stage runner. */
async function session(
  options: ReproduceOptions,
  resolved: ResolvedRun,
  ctx: PipelineContext,
  world: BuiltWorld | null,
): Promise<RunSession> {
  const { config } = resolved;
  const run = ctx.run;
  const setup: StageSpec[] = [];
  if (world) {
    // Stage `world`: the base policy, copied into the run so the run stands on its own.
    setup.push({
      name: "world",
      inputs: { world: world.key },
      after: [],
      code: [new URL("../io/copy.ts", import.meta.url).href],
      outputs: [ctx.policy.dir],
      run: () => copy(world.policyDir, ctx.policy.dir),
    });
  }
  const tuning = config.training.tuningRecord;
  if (tuning !== null) {
    // Stage `tuning`: the search that chose the hyper-parameters travels with the run.
    setup.push({
      name: "tuning",
      inputs: { record: await sha256File(tuningRecordPath(tuning)) },
      after: [],
      code: [new URL("../io/copy.ts", import.meta.url).href],
      outputs: [run.tuning],
      run: () => copy(tuningRecordPath(tuning), run.tuning),
    });
  }

  let owned = false;
  let manifest: Manifest | null = null;
  const runner = new StageRunner(run.dir, {
    force: options.force,
    log: (l) => ctx.progress.log(l),
    beforeRun: async () => {
      if (owned) return;
      owned = true;
      await writeManifest(run.manifest, await fresh());
    },
  });
  const stages: ManifestStage[] = [];
  const fresh = async (): Promise<Manifest> => {
    if (manifest) return manifest;
    const environment = await describeEnvironment(await ctx.trainer());
    manifest = {
      kit: "cdpo-kit",
      run: resolved.name,
      preset: options.preset ?? "default",
      source: resolved.source,
      config,
      seeds: { run: config.seed, training: config.training.seeds },
      git: await gitState(),
      environment,
      device: {
        trainer: environment.trainer?.device ?? "unknown",
        lm: `${config.policy.backend} (${config.policy.device})`,
      },
      inputs: {
        config_file: await sha256File(resolved.source),
        ...(world ? { world: world.key } : {}),
        policy: ctx.policy.hash,
      },
      stages,
      started: new Date().toISOString(),
      finished: null,
    };
    return manifest;
  };
  return {
    ctx,
    setup,
    run: async (specs) => {
      // Refused here, before anything is written (or the trainer started), rather than at the
      // first mismatching stage.
      await runner.plan(specs);
      for (const spec of specs) {
        const outcome = await runner.run(spec);
        const rec = runner.records.get(spec.name)!;
        stages.push({ name: spec.name, outcome, seconds: rec.seconds, key: rec.key });
        ctx.progress.log(
          `stage ${spec.name}: ${
            outcome === "cached" ? "done earlier, skipped" : `done in ${rec.seconds.toFixed(1)} s`
          }`,
        );
        if (owned) await writeManifest(run.manifest, manifest!);
      }
    },
    finish: async () => {
      const previous = readJsonOrNull(run.manifest) as Manifest | null;
      // A finished run whose stages were all cached keeps the manifest that made it.
      if (!owned && previous?.finished != null) return previous;
      const done = await fresh();
      done.finished = new Date().toISOString();
      await writeManifest(run.manifest, done);
      return done;
    },
  };
}

/** The stages before training: sampling, rollouts, the contrastive models and scores. */
export function dataStages(ctx: PipelineContext): StageSpec[] {
  return [
    sampleStage(ctx),
    rolloutsStage(ctx),
    ...contrastiveSftStages(ctx),
    ceScoresStage(ctx),
  ];
}

/**
 * Runs (or resumes) the pipeline; returns the run directory. manifest.json is rewritten only
 * once a stage actually has work to do (or the previous run never finished).
 */
export async function reproduce(
  options: ReproduceOptions = {},
): Promise<{ runDir: string; manifest: Manifest }> {
  return await withRun(options, async (s) => {
    const { ctx } = s;
    // SFT first: dpo_sft and tokendpo start from it.
    const ordered = [...ctx.config.training.methods].sort((a, b) =>
      Number(b === "sft") - Number(a === "sft")
    );
    const trained = ordered.flatMap((method) => trainStages(ctx, method));
    await s.run([
      ...s.setup,
      ...dataStages(ctx),
      ...trained,
      evaluateStage(ctx, trained.map((t) => t.name)),
    ]);
    const manifest = await s.finish();
    ctx.progress.log("report: tables, figures and report.md");
    await buildReport(ctx.run.dir);
    return { runDir: ctx.run.dir, manifest };
  });
}

function readJsonOrNull(path: string): unknown {
  try {
    return JSON.parse(Deno.readTextFileSync(path));
  } catch {
    return null;
  }
}

async function removeIfEmpty(dir: string): Promise<void> {
  try {
    if ([...Deno.readDirSync(dir)].length === 0) await Deno.remove(dir);
  } catch {
    // Gone already, or not ours to judge.
  }
}
