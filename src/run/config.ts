/**
 * The config of one pipeline run: the user writes any subset as JSON (a preset in
 * data/presets/, or their own file); {@linkcode resolveRunConfig} fills the rest from
 * {@linkcode DEFAULT_RUN_CONFIG} and rejects unknown keys, wrong types and bad ranges,
 * naming the file and the key.
 *
 * @module
 */
import { basename, isAbsolute, join, resolve } from "node:path";
import { existsSync } from "node:fs";
import { parseJsonText, readJsonText, withKeyLine } from "../config/json_file.ts";
import { requireDistinct, requireOrdered, userKeys } from "../config/cross_field.ts";
import {
  DEFAULT_WORLD_PARAMS,
  MAX_VALUE_RANGE,
  resolveWorldParams,
  STEP_RANGE,
  type WorldOptions,
  type WorldParams,
} from "../tasks/world/params.ts";
import { ConfigError } from "../config/errors.ts";
import { type DeepPartial, resolveConfig, type Rule } from "../config/resolve.ts";
import { kitPaths } from "../paths.ts";
import { isPackagePath } from "../lm/model_path.ts";
import {
  checkVllmSettings,
  DEFAULT_VLLM_SETTINGS,
  VLLM_RULES,
  type VllmSettings,
} from "../lm/vllm_settings.ts";
import { defaultHyper, hyperRules, type HyperValue, METHOD_NAMES } from "../method/methods.ts";

/** Every setting of a run. */
export interface RunConfig {
  /** Seed of everything not given its own seed below. */
  seed: number;
  /** The embedded world; it and its policy are shared by every run with the same settings here. */
  world: Omit<WorldParams, "operations"> & {
    /** The world's problems and failure modes: src/tasks/world/params.ts documents each field
     * and holds the defaults (DEFAULT_WORLD_PARAMS); docs/world.md says how they were chosen. */
    operations: string[];
    /** The tiny policy's shape (a Llama; trainer/cdpo_trainer/world/policy.py says how it was chosen). */
    model: {
      hiddenSize: number;
      intermediateSize: number;
      layers: number;
      heads: number;
      kvHeads: number;
      /** The context: corpus sequences are under 100 tokens; 256 leaves room for sampling. */
      maxPositions: number;
      rmsNormEps: number;
      ropeTheta: number;
      initializerRange: number;
      tieEmbeddings: boolean;
    };
    /** Pretraining the tiny policy (full training from its seeded initialisation; cosine schedule
     * to lr x minLrRatio, length-bucketed batches). Ignored when a shipped policy matches. */
    pretrain: {
      steps: number;
      batchSize: number;
      lr: number;
      minLrRatio: number;
      warmupSteps: number;
      weightDecay: number;
      adamBetas: number[];
      maxGradNorm: number;
      /** Steps between checkpoints (a killed build resumes from the last one). */
      checkpointEvery: number;
    };
  };
  /**
   * The problems: the embedded world, or a real data set read from local JSONL files (relative
   * paths are read from the kit's folder; data/datasets/ ships GSM8K and MATH500).
   */
  task: {
    kind: "world" | "gsm8k" | "math500";
    /** gsm8k: `{"question", "answer": "... #### N"}`; math500: `{"problem" or "question", "answer"}`. */
    trainPath: string | null;
    testPath: string | null;
    /** Few-shot examples, a JSON list of {question, solution}. @default {data/fewshot/<task>.json} */
    fewShotPath: string | null;
    /** chat: the checkpoint's chat template; fewshot: the paper's few-shot prompt; auto: chat
     * when the checkpoint has a chat template. */
    prompt: "auto" | "chat" | "fewshot";
    /** Training questions by their 1-based line numbers in trainPath (null: the file in order);
     * the report lists them. The test split is always used as it is. */
    trainLines: number[] | null;
  };
  /** The policy: the embedded world's (path null), a Hugging Face directory, a .gguf file, or
   * `package:<distribution>/<file>` inside an installed Python package (src/lm/model_path.ts). */
  policy: {
    path: string | null;
    backend: "ort" | "torch" | "vllm";
    device: "cpu" | "cuda";
    /** Settings of the `vllm` backend (src/lm/vllm_model.ts); ignored by the others. */
    vllm: VllmSettings;
  };
  sampling: {
    /** Training problems sampled (the first ones of the world's train split); 0 = all. */
    problems: number;
    /** Samples per training problem (paper: 64). */
    perProblem: number;
    temperature: number;
    topP: number;
    maxNewTokens: number;
    /** Samples per test problem for Figure 5 (as sampled / CE token replaced / after cDPO). */
    testPerProblem: number;
    /**
     * Most rows (problems x samples, or prefixes x samples) per saved piece of every stage that
     * samples: sampling, the rollout search (at least one prefix a piece), greedy evaluation and
     * Figure 5 (at most 100 and 64 items a chunk). An interruption loses at most one piece, and a
     * piece's raw samples are kept before they are graded. Pieces continue their request's
     * random streams, so they do not change the samples; smaller pieces only cost batching
     * (about a minute of work per piece is the aim: 32 rows for a 135M model on 2 CPU cores).
     */
    rowsPerPiece: number;
  };
  rollouts: {
    /** Incorrect trajectories searched by rollouts (paper: 100). */
    trajectories: number;
    /** Continuations per prefix, and "without" samples per trajectory (paper: 64). */
    samples: number;
  };
  contrastive: {
    /** beta of s_t = softmax((1 + beta) z_pos - beta z_neg). */
    beta: number;
    /** Incorrect trajectories scored (every rejected one of a pair, then a seeded sample of the
     * rest, for the detector table); 0 = all. */
    maxTrajectories: number;
    /** Fine-tuning of the positive and the negative model (with training.optimizer and .lora). */
    sftSteps: number;
    sftLr: number;
    sftBatchSize: number;
    /**
     * Also score out of sample by cross-fitting: positive and negative models trained on each
     * half of the training questions score the other half's trajectories.
     */
    outOfSample: boolean;
    /** The scores behind cDPO's token weights: out of sample (default) or in sample (the paper's). */
    weightsFrom: "out" | "in";
    /** Other betas at which s_t is also computed, for the detector table (beyond the paper). */
    betaSweep: number[];
  };
  training: {
    /** The methods fitted (names of src/method/methods.ts); cDPO must be among them. */
    methods: string[];
    /** Seeds of every trained method (significance is tested over all of them). */
    seeds: number[];
    /** One budget for every method. */
    steps: number;
    batchSize: number;
    /**
     * Preference pairs held out of training, on which Figure 6's log-probs are measured every
     * `evalEvery` steps (and before the first); 0 = none; at most a quarter of the pairs.
     */
    heldOutPairs: number;
    evalEvery: number;
    /** Every fine-tuning run's optimiser: AdamW, warmup, then constant or cosine to lr x minLrRatio. */
    optimizer: {
      schedule: "constant" | "cosine";
      warmupSteps: number;
      minLrRatio: number;
      maxGradNorm: number;
      weightDecay: number;
      adamBetas: number[];
    };
    /** LoRA on every fine-tuning run; rank 0 = full fine-tuning (tiny models). */
    lora: { rank: number; alpha: number; dropout: number; targetModules: string };
    /** Weights' precision while training (bfloat16 halves memory on GPUs). */
    dtype: "float32" | "bfloat16";
    /** Each method's hyper-parameters (defaults and ranges in src/method/methods.ts). */
    hyper: Record<string, Record<string, HyperValue>>;
    /**
     * The record of the search that chose `hyper` (`deno task tune` writes it; a path under the
     * kit's data/ folder, or absolute): copied into the run, shown in its report. Null: none.
     */
    tuningRecord: string | null;
    /** An accelerate config (e.g. trainer/accelerate/ddp-8gpu.yaml) to start the trainer's ranks
     * with; null: one process. Its curves match one process's within 1e-5 (docs/scale.md). */
    accelerateConfig: string | null;
  };
  evaluation: {
    /** Test problems evaluated (the first ones of the world's test split); 0 = all. */
    problems: number;
    /**
     * Problems at the end of the train split held out of training for choosing hyper-parameters
     * (`deno task tune`); never sampled for preference or fine-tuning data.
     */
    validationProblems: number;
    /**
     * Test problems Figure 5 samples (the first ones of those evaluated), `testPerProblem` times
     * each per condition; 0 = all. Table 1 always uses every evaluated problem.
     */
    fig5Problems: number;
    bootstrapResamples: number;
  };
}

/** The defaults: the embedded demo (`default` preset). */
export const DEFAULT_RUN_CONFIG: RunConfig = {
  seed: 0,
  world: {
    ...DEFAULT_WORLD_PARAMS,
    operations: [...DEFAULT_WORLD_PARAMS.operations],
    model: {
      hiddenSize: 128,
      intermediateSize: 256,
      layers: 4,
      heads: 4,
      kvHeads: 4,
      maxPositions: 256,
      rmsNormEps: 1e-5,
      ropeTheta: 10000,
      initializerRange: 0.02,
      tieEmbeddings: false,
    },
    pretrain: {
      steps: 2000,
      batchSize: 64,
      lr: 3e-3,
      minLrRatio: 0.1,
      warmupSteps: 30,
      weightDecay: 0.01,
      adamBetas: [0.9, 0.95],
      maxGradNorm: 1,
      checkpointEvery: 250,
    },
  },
  task: {
    kind: "world",
    trainPath: null,
    testPath: null,
    fewShotPath: null,
    prompt: "auto",
    trainLines: null,
  },
  policy: { path: null, backend: "ort", device: "cpu", vllm: DEFAULT_VLLM_SETTINGS },
  sampling: {
    problems: 0,
    perProblem: 16,
    temperature: 0.8,
    topP: 1,
    maxNewTokens: 64,
    testPerProblem: 4,
    rowsPerPiece: 400,
  },
  rollouts: { trajectories: 30, samples: 32 },
  contrastive: {
    beta: 1,
    maxTrajectories: 4000,
    sftSteps: 150,
    sftLr: 3e-4,
    sftBatchSize: 32,
    outOfSample: true,
    weightsFrom: "out",
    betaSweep: [0.25, 0.5, 2, 4],
  },
  training: {
    methods: [...METHOD_NAMES],
    seeds: [0, 1, 2],
    steps: 60,
    batchSize: 32,
    heldOutPairs: 64,
    evalEvery: 10,
    optimizer: {
      schedule: "constant",
      warmupSteps: 0,
      minLrRatio: 0,
      maxGradNorm: 1,
      weightDecay: 0,
      adamBetas: [0.9, 0.999],
    },
    lora: { rank: 0, alpha: 32, dropout: 0.05, targetModules: "all-linear" },
    dtype: "float32",
    hyper: defaultHyper(),
    tuningRecord: null,
    accelerateConfig: null,
  },
  evaluation: { problems: 0, validationProblems: 300, fig5Problems: 500, bootstrapResamples: 2000 },
};

const positiveInt = { kind: "int", min: 1 } as const;
const positive = { kind: "number", min: 0, exclusiveMin: true } as const;
const probability = { kind: "number", min: 0, max: 1 } as const;
const RULES: Record<string, Rule> = {
  seed: { kind: "int", min: 0 },
  "world.trainSize": positiveInt,
  "world.testSize": positiveInt,
  "world.pretrainSize": positiveInt,
  "world.minSteps": { kind: "int", min: STEP_RANGE[0], max: STEP_RANGE[1] },
  "world.maxSteps": { kind: "int", min: STEP_RANGE[0], max: STEP_RANGE[1] },
  "world.maxValue": { kind: "int", min: MAX_VALUE_RANGE[0], max: MAX_VALUE_RANGE[1] },
  "world.greedyTriggerShare": probability,
  "world.samplingTriggerShare": probability,
  "world.greedyTriggerRate": probability,
  "world.samplingTriggerRate": probability,
  "world.carrySlipRate": probability,
  "world.borrowSlipRate": probability,
  "world.delayedTrapRate": probability,
  "world.model.hiddenSize": positiveInt,
  "world.model.intermediateSize": positiveInt,
  "world.model.layers": positiveInt,
  "world.model.heads": positiveInt,
  "world.model.kvHeads": positiveInt,
  "world.model.maxPositions": positiveInt,
  "world.model.rmsNormEps": positive,
  "world.model.ropeTheta": positive,
  "world.model.initializerRange": positive,
  "world.pretrain.steps": positiveInt,
  "world.pretrain.batchSize": positiveInt,
  "world.pretrain.lr": positive,
  "world.pretrain.minLrRatio": { kind: "number", min: 0, max: 1 },
  "world.pretrain.warmupSteps": { kind: "int", min: 0 },
  "world.pretrain.weightDecay": { kind: "number", min: 0 },
  "world.pretrain.maxGradNorm": { kind: "number", min: 0 },
  "world.pretrain.checkpointEvery": { kind: "int", min: 0 },
  "task.kind": { kind: "enum", values: ["world", "gsm8k", "math500"] },
  "task.prompt": { kind: "enum", values: ["auto", "chat", "fewshot"] },
  "task.trainLines": { kind: "nullableIntList" },
  "task.trainPath": { kind: "nullableString" },
  "task.testPath": { kind: "nullableString" },
  "task.fewShotPath": { kind: "nullableString" },
  "policy.path": { kind: "nullableString" },
  "policy.backend": { kind: "enum", values: ["ort", "torch", "vllm"] },
  "policy.device": { kind: "enum", values: ["cpu", "cuda"] },
  ...VLLM_RULES,
  "sampling.problems": { kind: "int", min: 0 },
  "sampling.perProblem": { kind: "int", min: 2 },
  "sampling.temperature": positive,
  "sampling.topP": { kind: "number", min: 0, exclusiveMin: true, max: 1 },
  "sampling.maxNewTokens": positiveInt,
  "sampling.testPerProblem": positiveInt,
  "sampling.rowsPerPiece": positiveInt,
  "rollouts.trajectories": { kind: "int", min: 0 },
  "rollouts.samples": { kind: "int", min: 2 },
  "contrastive.beta": { kind: "number", min: 0 },
  "contrastive.maxTrajectories": { kind: "int", min: 0 },
  "contrastive.sftSteps": positiveInt,
  "contrastive.sftLr": positive,
  "contrastive.sftBatchSize": positiveInt,
  "contrastive.weightsFrom": { kind: "enum", values: ["out", "in"] },
  "training.steps": positiveInt,
  "training.batchSize": positiveInt,
  "training.heldOutPairs": { kind: "int", min: 0 },
  "training.evalEvery": positiveInt,
  "training.optimizer.schedule": { kind: "enum", values: ["constant", "cosine"] },
  "training.optimizer.warmupSteps": { kind: "int", min: 0 },
  "training.optimizer.minLrRatio": { kind: "number", min: 0, max: 1 },
  "training.optimizer.maxGradNorm": { kind: "number", min: 0 },
  "training.optimizer.weightDecay": { kind: "number", min: 0 },
  "training.lora.rank": { kind: "int", min: 0 },
  "training.lora.alpha": positive,
  "training.lora.dropout": { kind: "number", min: 0, max: 0.99 },
  "training.dtype": { kind: "enum", values: ["float32", "bfloat16"] },
  "training.tuningRecord": { kind: "nullableString" },
  "training.accelerateConfig": { kind: "nullableString" },
  ...hyperRules(),
  "evaluation.problems": { kind: "int", min: 0 },
  "evaluation.validationProblems": { kind: "int", min: 0 },
  "evaluation.fig5Problems": { kind: "int", min: 0 },
  "evaluation.bootstrapResamples": { kind: "int", min: 100 },
};

/** A resolved config and where it came from. */
export interface ResolvedRun {
  /** Preset name, or the config file's stem. */
  name: string;
  source: string;
  config: RunConfig;
}

/** Resolves a user config object (already parsed) that came from `file`. */
export function resolveRunConfig(user: DeepPartial<RunConfig> | unknown, file: string): RunConfig {
  const config = resolveConfig(DEFAULT_RUN_CONFIG, user, file, RULES);
  for (const [i, m] of config.training.methods.entries()) {
    if (!METHOD_NAMES.includes(m)) {
      throw new ConfigError(
        file,
        `training.methods[${i}]`,
        `one of ${METHOD_NAMES.join(", ")}`,
        `got "${m}"`,
      );
    }
  }
  for (const key of ["world.pretrain.adamBetas", "training.optimizer.adamBetas"] as const) {
    const betas = key.startsWith("world")
      ? config.world.pretrain.adamBetas
      : config.training.optimizer.adamBetas;
    if (betas.length !== 2 || betas.some((b) => !(b >= 0 && b < 1))) {
      throw new ConfigError(
        file,
        key,
        "two numbers in [0, 1), e.g. [0.9, 0.999]",
        `got ${JSON.stringify(betas)}`,
      );
    }
  }
  if (config.training.methods.length > 0 && !config.training.methods.includes("cdpo")) {
    throw new ConfigError(
      file,
      "training.methods",
      'a list that includes "cdpo" (every method is compared to it)',
    );
  }
  for (const [i, b] of config.contrastive.betaSweep.entries()) {
    if (!(b > 0)) {
      throw new ConfigError(file, `contrastive.betaSweep[${i}]`, "a number > 0", `got ${b}`);
    }
  }
  if (config.contrastive.weightsFrom === "out" && !config.contrastive.outOfSample) {
    throw new ConfigError(
      file,
      "contrastive.weightsFrom",
      '"in" when contrastive.outOfSample is false (there are no out-of-sample scores)',
      'got "out"',
    );
  }
  requireDistinct(
    file,
    "training.methods",
    config.training.methods,
    "a method listed twice is trained twice",
  );
  if (config.training.seeds.length === 0) {
    throw new ConfigError(file, "training.seeds", "at least one seed");
  }
  requireDistinct(
    file,
    "training.seeds",
    config.training.seeds,
    "a repeated seed counts each result twice and shrinks every p-value",
  );
  const w = config.world;
  requireOrdered(
    file,
    { key: "world.minSteps", value: w.minSteps },
    { key: "world.maxSteps", value: w.maxSteps },
    userKeys(user),
    `world.minSteps <= world.maxSteps, both integers in ${STEP_RANGE.join("..")}`,
  );
  // Whatever else the world generator refuses is refused here, before anything runs.
  try {
    worldParams(w);
  } catch (e) {
    if (!(e instanceof RangeError)) throw e;
    // The generator's message starts with the parameter it refuses: name that key.
    const name = /^Cannot resolve world params: (\w+)/.exec(e.message)?.[1];
    throw new ConfigError(
      file,
      name ? `world.${name}` : "world",
      "settings the world generator accepts",
      e.message.replace(/^Cannot resolve world params: /, ""),
    );
  }
  for (const [i, s] of config.training.seeds.entries()) {
    if (!Number.isInteger(s) || s < 0) {
      throw new ConfigError(file, `training.seeds[${i}]`, "an integer >= 0", `got ${s}`);
    }
  }
  // Relative paths are the kit's own files (data/datasets/...): read from the kit's folder.
  const fromKit = (path: string | null) => (path === null ? null : resolve(kitPaths.root, path));
  config.task.trainPath = fromKit(config.task.trainPath);
  config.task.testPath = fromKit(config.task.testPath);
  config.task.fewShotPath = fromKit(config.task.fewShotPath);
  if (config.policy.path !== null && !isPackagePath(config.policy.path)) {
    config.policy.path = fromKit(config.policy.path);
  }
  checkTrainLines(config.task.trainLines, file);
  if (config.task.kind !== "world") {
    const form = config.task.kind === "gsm8k"
      ? 'GSM8K-style JSONL file ({"question", "answer": "... #### N"})'
      : 'MATH-style JSONL file ({"problem" or "question", "answer"}; MATH\'s train split is ' +
        "not shipped: give your own)";
    for (const key of ["trainPath", "testPath"] as const) {
      const path = config.task[key];
      if (path === null || !existsSync(path)) {
        throw new ConfigError(
          file,
          `task.${key}`,
          `the path of an existing ${form}`,
          `got ${path}`,
        );
      }
    }
    if (config.task.fewShotPath !== null && !existsSync(config.task.fewShotPath)) {
      throw new ConfigError(
        file,
        "task.fewShotPath",
        "an existing JSON list of {question, solution}, or null for the kit's own",
        `${config.task.fewShotPath} does not exist`,
      );
    }
    if (config.policy.path === null) {
      throw new ConfigError(
        file,
        "policy.path",
        "a Hugging Face model directory or a .gguf file (the embedded policy only knows the world)",
      );
    }
  }
  const tuning = config.training.tuningRecord;
  if (tuning !== null && !existsSync(tuningRecordPath(tuning))) {
    throw new ConfigError(
      file,
      "training.tuningRecord",
      "the path of a tuning record (under data/, e.g. tuning/default.json, or absolute)",
      `${tuning} does not exist`,
    );
  }
  checkVllmSettings(config.policy.vllm, file);
  const accelerate = config.training.accelerateConfig;
  if (accelerate !== null && !existsSync(accelerate)) {
    throw new ConfigError(
      file,
      "training.accelerateConfig",
      "the path of an accelerate config (e.g. trainer/accelerate/ddp-8gpu.yaml) or null",
      `${accelerate} does not exist`,
    );
  }
  if (
    config.policy.path !== null && !isPackagePath(config.policy.path) &&
    !existsSync(config.policy.path)
  ) {
    throw new ConfigError(
      file,
      "policy.path",
      "an existing Hugging Face model directory or .gguf file",
      `${config.policy.path} does not exist`,
    );
  }
  return config;
}

/** Training questions by line number: distinct 1-based integers, or null for the whole file. */
function checkTrainLines(lines: number[] | null, file: string): void {
  if (lines === null) return;
  if (!Array.isArray(lines) || lines.length === 0) {
    throw new ConfigError(file, "task.trainLines", "a non-empty list of line numbers, or null");
  }
  for (const [i, n] of lines.entries()) {
    if (!Number.isInteger(n) || n < 1 || lines.indexOf(n) !== i) {
      throw new ConfigError(
        file,
        `task.trainLines[${i}]`,
        "a distinct 1-based line number of task.trainPath",
        `got ${n}`,
      );
    }
  }
}

/** Where a tuning record named in a config lies: under the kit's data/ unless absolute. */
export function tuningRecordPath(name: string): string {
  return isAbsolute(name) ? name : join(kitPaths.data, name);
}

/** The world generator's parameters of a run's `world` settings (throws a RangeError when it refuses them). */
export function worldParams(w: RunConfig["world"]): WorldParams {
  const { model: _model, pretrain: _pretrain, ...params } = w;
  return resolveWorldParams(params as WorldOptions);
}

/** Loads a preset by name (`smoke`, `default`, ...) or a JSON file by path. */
export async function loadRunConfig(presetOrFile: string): Promise<ResolvedRun> {
  const isFile = presetOrFile.endsWith(".json");
  const file = isFile ? presetOrFile : join(kitPaths.presets, `${presetOrFile}.json`);
  if (!isFile && !existsSync(file)) {
    const known = [...Deno.readDirSync(kitPaths.presets)].map((e) => e.name.replace(/\.json$/, ""))
      .sort();
    throw new ConfigError(
      file,
      null,
      `a preset name (${known.join(", ")}) or a path to a .json config`,
      `no preset "${presetOrFile}"`,
    );
  }
  const text = await readJsonText(file);
  const user = parseJsonText(text, file);
  // A preset may carry a "_comment" for people; it is not a setting.
  if (user && typeof user === "object" && !Array.isArray(user)) {
    delete (user as Record<string, unknown>)._comment;
  }
  try {
    return {
      name: basename(file).replace(/\.json$/, ""),
      source: file,
      config: resolveRunConfig(user, file),
    };
  } catch (e) {
    throw e instanceof ConfigError ? withKeyLine(e, text) : e;
  }
}
