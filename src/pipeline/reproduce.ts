/**
 * The cDPO pipeline end to end over one run directory (design.md, "Data flow of one run"):
 * world -> sample -> rollouts -> sft_pos, sft_neg -> ce_scores -> train:* -> evaluate, then the
 * report (tables, figures, report.md) rebuilt from the stored data. Every stage is resumable
 * and skipped when already done with the same inputs.
 *
 * @module
 */
import { resolve } from "node:path";
import { copy } from "../io/copy.ts";
import { sha256File } from "../io/hash.ts";
import { kitPaths } from "../paths.ts";
import { describeEnvironment } from "../run/environment.ts";
import { buildReport } from "../report/build.ts";
import { PipelineContext } from "./context.ts";
import { gitState, type Manifest, type ManifestStage, writeManifest } from "../run/manifest.ts";
import { ConsoleProgress, type ProgressSink } from "./progress.ts";
import { loadRunConfig, tuningRecordPath } from "../run/config.ts";
import { runPaths } from "../run/paths.ts";
import { fingerprint, StageRunner, type StageSpec } from "./stage.ts";
import { buildWorld } from "./world_build.ts";
import { loadProblems } from "./problems.ts";
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

/** An open run: its context, the runner of its stages, and its manifest. */
export interface RunSession {
  ctx: PipelineContext;
  manifest: Manifest;
  /** Runs (or skips) one stage and records it in the manifest. */
  runStage: (spec: StageSpec) => Promise<void>;
  /** Closes the models and the trainer. */
  close: () => Promise<void>;
}

/**
 * Opens the run of `options`: resolves its config, builds (or finds) the world's policy, copies
 * it into the run (stage `world`), loads the problems and starts its manifest.
 */
export async function openRun(options: ReproduceOptions = {}): Promise<RunSession> {
  const progress = options.progress ?? new ConsoleProgress();
  const resolved = await loadRunConfig(options.preset ?? "default");
  const runDir = resolve(options.out ?? `${kitPaths.runs}/${resolved.name}`);
  const run = runPaths(runDir);
  await Deno.mkdir(runDir, { recursive: true });
  const { config } = resolved;

  const holder = { trainer: null as Promise<Trainer> | null };
  const launch = { accelerateConfig: config.training.accelerateConfig ?? undefined };
  const sharedTrainer = () => (holder.trainer ??= Trainer.start(launch));
  // The embedded world's policy is built (or found) first; an external policy is used in place.
  const world = config.task.kind === "world" && config.policy.path === null
    ? await buildWorld(config, sharedTrainer, progress)
    : null;
  const runner = new StageRunner(runDir, { force: options.force, log: (l) => progress.log(l) });
  const stages: ManifestStage[] = [];
  const environment = await describeEnvironment(await sharedTrainer());
  const manifest: Manifest = {
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
    },
    stages,
    started: new Date().toISOString(),
    finished: null,
  };
  await writeManifest(run.manifest, manifest);

  const runStage = async (spec: StageSpec) => {
    const outcome = await runner.run(spec);
    const rec = runner.records.get(spec.name)!;
    stages.push({ name: spec.name, outcome, seconds: rec.seconds, key: rec.key });
    progress.log(
      `stage ${spec.name}: ${
        outcome === "cached" ? "done earlier, skipped" : `done in ${rec.seconds.toFixed(1)} s`
      }`,
    );
    await writeManifest(run.manifest, manifest);
  };

  let policyDir: string;
  if (world) {
    // Stage `world`: the base policy, copied into the run so the run stands on its own.
    policyDir = run.model("base");
    await runStage({
      name: "world",
      inputs: { world: world.key },
      after: [],
      code: [new URL("../io/copy.ts", import.meta.url).href],
      outputs: [policyDir],
      run: () => copy(world.policyDir, policyDir),
    });
  } else {
    policyDir = resolve(config.policy.path!);
  }
  const { task, train, validation, test } = await loadProblems(config, world?.splits);
  const byId = new Map([...train, ...validation, ...test].map((p) => [p.id, p]));
  const ctx = new PipelineContext(run, config, progress, task, { train, validation, test, byId }, {
    dir: policyDir,
    hash: await fingerprint(policyDir),
  });
  // The context shares the already running trainer.
  if (holder.trainer) ctx.useTrainer(holder.trainer);
  // The search that chose the hyper-parameters travels with the run (its report shows it).
  if (config.training.tuningRecord !== null) {
    await copy(tuningRecordPath(config.training.tuningRecord), run.tuning);
  }
  manifest.inputs.policy = ctx.policy.hash;
  return { ctx, manifest, runStage, close: () => ctx.close() };
}

/** The stages before training: sampling, rollouts, the contrastive models and scores. */
export async function runDataStages(session: RunSession): Promise<void> {
  const { ctx, runStage } = session;
  await runStage(sampleStage(ctx));
  await runStage(rolloutsStage(ctx));
  // Training needs the memory a sampling engine holds (a vLLM server keeps most of a GPU); the
  // models are opened again by the stages that read them.
  await ctx.closeModels();
  for (const spec of contrastiveSftStages(ctx)) await runStage(spec);
  await runStage(ceScoresStage(ctx));
  await ctx.closeModels();
}

/** Runs (or resumes) the pipeline; returns the run directory. */
export async function reproduce(
  options: ReproduceOptions = {},
): Promise<{ runDir: string; manifest: Manifest }> {
  const session = await openRun(options);
  const { ctx, manifest, runStage } = session;
  try {
    await runDataStages(session);
    const methods = ctx.config.training.methods;
    // SFT first: dpo_sft and tokendpo start from it.
    const ordered = [...methods].sort((a, b) => Number(b === "sft") - Number(a === "sft"));
    const names: string[] = [];
    for (const method of ordered) {
      for (const spec of trainStages(ctx, method)) {
        await runStage(spec);
        names.push(spec.name);
      }
    }
    await runStage(evaluateStage(ctx, names));
  } finally {
    await session.close();
  }
  manifest.finished = new Date().toISOString();
  await writeManifest(ctx.run.manifest, manifest);
  ctx.progress.log("report: tables, figures and report.md");
  await buildReport(ctx.run.dir);
  return { runDir: ctx.run.dir, manifest };
}
