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
import { resolveModelPath } from "../lm/model_path.ts";
import { checkCheckpoint } from "../lm/checkpoint_check.ts";
import { describeEnvironment } from "../report/environment.ts";
import { buildReport } from "../report/build.ts";
import { PipelineContext } from "./context.ts";
import { gitState, type Manifest, type ManifestStage, writeManifest } from "./manifest.ts";
import { ConsoleProgress, type ProgressSink } from "./progress.ts";
import { loadRunConfig, type RunConfig } from "./run_config.ts";
import { runPaths } from "./run_paths.ts";
import { fingerprint, StageRunner, type StageSpec } from "./stage.ts";
import { buildWorld, worldIdentity } from "./world_build.ts";
import { generateSplits, type WorldSplits } from "../tasks/world/generator.ts";
import type { ReasoningTask, TaskProblem } from "../tasks/task.ts";
import { worldTask } from "../tasks/world_task.ts";
import { loadRealTask } from "../tasks/load_task.ts";
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

/**
 * The run's task and its problems: the first `sampling.problems` / `evaluation.problems` of each
 * split. A real data set also needs the policy's directory (its tokenizer decides between its chat
 * template and the few-shot prompt) and a trainer (chat templates, MATH grading).
 */
export async function loadProblems(
  config: RunConfig,
  /** The world's splits when already generated (the world build makes them). */
  worldSplits?: WorldSplits,
  real?: { policyDir: string; trainer: () => Promise<Trainer> },
): Promise<{ task: ReasoningTask; train: TaskProblem[]; test: TaskProblem[] }> {
  if (config.task.kind !== "world") {
    if (!real) {
      throw new Error(
        `Cannot load the ${config.task.kind} problems without the policy directory and a trainer`,
      );
    }
    return await loadRealTask({
      kind: config.task.kind,
      trainPath: config.task.trainPath!,
      testPath: config.task.testPath!,
      fewShotPath: config.task.fewShotPath,
      prompt: config.task.prompt,
      trainLines: config.task.trainLines,
      trainProblems: config.sampling.problems,
      testProblems: config.evaluation.problems,
      modelDir: real.policyDir,
      trainer: real.trainer,
    });
  }
  const take = <T>(xs: readonly T[], n: number) => (n > 0 ? xs.slice(0, n) : xs.slice());
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
  const sharedTrainer = () => (holder.trainer ??= Trainer.start());
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
    // A .gguf (or a file inside a Python package) becomes its cached Hugging Face conversion;
    // a checkpoint that cannot serve this backend is refused before any work.
    policyDir = await resolveModelPath(config.policy.path!, await sharedTrainer(), {
      log: (line) => progress.log(line),
    });
    await checkCheckpoint(policyDir, config.policy.backend);
  }
  const { task, train, test } = await loadProblems(config, world?.splits, {
    policyDir,
    trainer: sharedTrainer,
  });
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
    await runStage(contrastiveSftStage(ctx, "pos"));
    await runStage(contrastiveSftStage(ctx, "neg"));
    await runStage(ceScoresStage(ctx));
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
