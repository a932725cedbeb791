/**
 * The cDPO pipeline end to end over one run directory (design.md, "Data flow of one run"):
 * world -> sample -> rollouts -> sft_pos, sft_neg -> ce_scores -> train:* -> evaluate, then the
 * report (tables, figures, report.md) rebuilt from the stored data. Every stage is resumable
 * and skipped when already done with the same inputs.
 *
 * @module
 */
import { existsSync } from "node:fs";
import { resolve } from "node:path";
import { copy } from "../io/copy.ts";
import { sha256File } from "../io/hash.ts";
import { kitPaths } from "../paths.ts";
import { describeEnvironment } from "../run/environment.ts";
import { buildReport } from "../report/build.ts";
import { PipelineContext } from "./context.ts";
import { gitState, type Manifest, type ManifestStage, writeManifest } from "../run/manifest.ts";
import { ConsoleProgress, type ProgressSink } from "./progress.ts";
import { loadRunConfig, type ResolvedRun, type RunConfig } from "../run/config.ts";
import { type RunPaths, runPaths } from "../run/paths.ts";
import { RunLock } from "../run/lock.ts";
import { checkModelDir } from "../lm/model_check.ts";
import { onShutdown } from "../cli/shutdown.ts";
import { checkOutDir } from "../cli/out_dir.ts";
import { fingerprint, StageRunner, type StageSpec } from "./stage.ts";
import { buildWorld, type BuiltWorld, worldIdentity } from "./world_build.ts";
import { generateSplits, type WorldSplits } from "../tasks/world/generator.ts";
import type { ReasoningTask, TaskProblem } from "../tasks/task.ts";
import { worldTask } from "../tasks/world_task.ts";
import { gsm8kTask, readFewShot, readGsm8kJsonl } from "../tasks/gsm8k_task.ts";
import { sampleStage } from "./stages/sample.ts";
import { rolloutsStage } from "./stages/rollouts.ts";
import { ceScoresStage, contrastiveSftStage } from "./stages/contrastive.ts";
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

/** The run's task and its problems: the first `sampling.problems` / `evaluation.problems` of each split. */
export async function loadProblems(
  config: RunConfig,
  /** The world's splits when already generated (the world build makes them). */
  worldSplits?: WorldSplits,
): Promise<{ task: ReasoningTask; train: TaskProblem[]; test: TaskProblem[] }> {
  const take = <T>(xs: readonly T[], n: number) => (n > 0 ? xs.slice(0, n) : xs.slice());
  if (config.task.kind === "gsm8k") {
    const fewShotPath = config.task.fewShotPath ?? `${kitPaths.data}/fewshot/gsm8k.json`;
    const examples = await readFewShot(fewShotPath);
    return {
      task: gsm8kTask(examples),
      train: take(await readGsm8kJsonl(config.task.trainPath!, "train"), config.sampling.problems),
      test: take(await readGsm8kJsonl(config.task.testPath!, "test"), config.evaluation.problems),
    };
  }
  const splits = worldSplits ?? generateSplits(worldIdentity(config).params, config.seed);
  return {
    task: worldTask as ReasoningTask,
    train: take(splits.train, config.sampling.problems),
    test: take(splits.test, config.evaluation.problems),
  };
}

/**
 * Runs (or resumes) the pipeline; returns the run directory.
 *
 * Everything the run reads is checked before anything is written: the config (with its
 * cross-field rules), the data files, and the model directories; then the run directory's lock is
 * taken, and every stage is checked against what the directory already holds. A rerun that is
 * refused therefore leaves the directory exactly as it was, and manifest.json is rewritten only
 * once a stage actually has work to do (or the previous run never finished).
 */
export async function reproduce(
  options: ReproduceOptions = {},
): Promise<{ runDir: string; manifest: Manifest }> {
  const progress = options.progress ?? new ConsoleProgress();
  const resolved = await loadRunConfig(options.preset ?? "default");
  const { config } = resolved;
  const runDir = resolve(options.out ?? `${kitPaths.runs}/${resolved.name}`);
  checkOutDir(runDir, "--out");
  const { backend, device } = config.policy;
  const external = config.policy.path === null ? null : resolve(config.policy.path);
  if (external !== null) await checkModelDir(external, { backend, device });
  const gsm8k = config.task.kind === "gsm8k" ? await loadProblems(config) : null;

  const created = !existsSync(runDir);
  await Deno.mkdir(runDir, { recursive: true });
  let lock: RunLock;
  try {
    lock = await RunLock.acquire(runDir, { note: (line) => progress.log(line) });
  } catch (e) {
    if (created) await removeIfEmpty(runDir);
    throw e;
  }
  // Ctrl-C in a task releases it too (a notebook kernel keeps its own meaning of an interrupt).
  const unhook = onShutdown(() => lock.release());
  try {
    return await reproduceLocked(options, resolved, runDir, progress, external, gsm8k);
  } finally {
    unhook();
    lock.release();
    // A refused first run leaves no empty folder behind.
    if (created) await removeIfEmpty(runDir);
  }
}

async function reproduceLocked(
  options: ReproduceOptions,
  resolved: ResolvedRun,
  runDir: string,
  progress: ProgressSink,
  external: string | null,
  gsm8k: Awaited<ReturnType<typeof loadProblems>> | null,
): Promise<{ runDir: string; manifest: Manifest }> {
  const { config } = resolved;
  const { backend, device } = config.policy;
  const run = runPaths(runDir);
  const holder = { trainer: null as Promise<Trainer> | null };
  const sharedTrainer = () => (holder.trainer ??= Trainer.start());
  try {
    // The embedded world's policy is built (or found) first; an external policy is used in place.
    const world = external === null ? await buildWorld(config, sharedTrainer, progress) : null;
    const source = world ? world.policyDir : external!;
    if (world) await checkModelDir(world.policyDir, { backend, device });
    const { task, train, test } = gsm8k ?? await loadProblems(config, world?.splits);
    const byId = new Map([...train, ...test].map((p) => [p.id, p]));
    // The run's copy of the world policy (stage `world`) has the fingerprint of its source.
    const policyDir = world ? run.model("base") : source;
    const ctx = new PipelineContext(run, config, progress, task, { train, test, byId }, {
      dir: policyDir,
      hash: await fingerprint(source),
    });
    // The context shares the already running trainer.
    if (holder.trainer) ctx.useTrainer(holder.trainer);
    try {
      return await runStages(options, resolved, run, ctx, progress, world);
    } finally {
      await ctx.close();
    }
  } finally {
    // The context closed it when it got that far; closing again is a no-op.
    await holder.trainer?.then((t) => t.close()).catch(() => {});
  }
}

async function runStages(
  options: ReproduceOptions,
  resolved: ResolvedRun,
  run: RunPaths,
  ctx: PipelineContext,
  progress: ProgressSink,
  world: BuiltWorld | null,
): Promise<{ runDir: string; manifest: Manifest }> {
  const { config } = resolved;
  const specs: StageSpec[] = [];
  if (world) {
    // Stage `world`: the base policy, copied into the run so the run stands on its own.
    specs.push({
      name: "world",
      inputs: { world: world.hash },
      after: [],
      outputs: [ctx.policy.dir],
      run: () => copy(world.policyDir, ctx.policy.dir),
    });
  }
  specs.push(
    sampleStage(ctx),
    rolloutsStage(ctx),
    contrastiveSftStage(ctx, "pos"),
    contrastiveSftStage(ctx, "neg"),
    ceScoresStage(ctx),
  );
  // SFT first: dpo_sft and tokendpo start from it.
  const ordered = [...config.training.methods].sort((a, b) =>
    Number(b === "sft") - Number(a === "sft")
  );
  const trained = ordered.flatMap((method) => trainStages(ctx, method));
  specs.push(...trained, evaluateStage(ctx, trained.map((s) => s.name)));

  // Refused here, before anything is written (or the trainer started), rather than at the first
  // mismatching stage.
  let owned = false;
  let manifest: Manifest | null = null;
  const runner = new StageRunner(run.dir, {
    force: options.force,
    log: (l) => progress.log(l),
    beforeRun: async () => {
      if (owned) return;
      owned = true;
      await writeManifest(run.manifest, manifest!);
    },
  });
  await runner.plan(specs);

  const stages: ManifestStage[] = [];
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
      ...(world ? { world: world.hash } : {}),
      policy: ctx.policy.hash,
    },
    stages,
    started: new Date().toISOString(),
    finished: null,
  };
  for (const spec of specs) {
    const outcome = await runner.run(spec);
    const rec = runner.records.get(spec.name)!;
    stages.push({ name: spec.name, outcome, seconds: rec.seconds, key: rec.key });
    progress.log(
      `stage ${spec.name}: ${
        outcome === "cached" ? "done earlier, skipped" : `done in ${rec.seconds.toFixed(1)} s`
      }`,
    );
    if (owned) await writeManifest(run.manifest, manifest);
  }
  manifest.finished = new Date().toISOString();
  const previous = readJsonOrNull(run.manifest) as Manifest | null;
  if (owned || previous?.finished == null) {
    await writeManifest(run.manifest, manifest);
  }
  progress.log("report: tables, figures and report.md");
  await buildReport(run.dir);
  return { runDir: run.dir, manifest: owned || previous === null ? manifest : previous };
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
