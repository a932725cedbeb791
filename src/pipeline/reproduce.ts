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
import { loadRunConfig, type RunConfig } from "../run/config.ts";
import { runPaths } from "../run/paths.ts";
import { fingerprint, StageRunner, type StageSpec } from "./stage.ts";
import { buildWorld, worldIdentity } from "./world_build.ts";
import { generateSplits, type WorldSplits } from "../tasks/world/generator.ts";
import type { ReasoningTask, TaskProblem } from "../tasks/task.ts";
import { worldTask } from "../tasks/world_task.ts";
import { type FewShotExample, gsm8kTask, readGsm8kJsonl } from "../tasks/gsm8k_task.ts";
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
    const examples = JSON.parse(await Deno.readTextFile(fewShotPath)) as FewShotExample[];
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

/** Runs (or resumes) the pipeline; returns the run directory. */
export async function reproduce(
  options: ReproduceOptions = {},
): Promise<{ runDir: string; manifest: Manifest }> {
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
      ...(world ? { world: world.hash } : {}),
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
      inputs: { world: world.hash },
      after: [],
      outputs: [policyDir],
      run: () => copy(world.policyDir, policyDir),
    });
  } else {
    policyDir = resolve(config.policy.path!);
  }
  const { task, train, test } = await loadProblems(config, world?.splits);
  const byId = new Map([...train, ...test].map((p) => [p.id, p]));
  const ctx = new PipelineContext(run, config, progress, task, { train, test, byId }, {
    dir: policyDir,
    hash: await fingerprint(policyDir),
  });
  // The context shares the already running trainer.
  if (holder.trainer) ctx.useTrainer(holder.trainer);
  manifest.inputs.policy = ctx.policy.hash;
  try {
    await runStage(sampleStage(ctx));
    await runStage(rolloutsStage(ctx));
    // Training needs the memory a sampling engine holds (a vLLM server keeps most of a GPU);
    // the models are opened again by the stages that read them.
    await ctx.closeModels();
    await runStage(contrastiveSftStage(ctx, "pos"));
    await runStage(contrastiveSftStage(ctx, "neg"));
    await runStage(ceScoresStage(ctx));
    await ctx.closeModels();
    const methods = config.training.methods;
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
    await ctx.close();
  }
  manifest.finished = new Date().toISOString();
  await writeManifest(run.manifest, manifest);
  progress.log("report: tables, figures and report.md");
  await buildReport(runDir);
  return { runDir, manifest };
}
