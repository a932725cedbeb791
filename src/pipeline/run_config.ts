/**
 * The config of one pipeline run: the user writes any subset as JSON (a preset in
 * data/presets/, or their own file); {@linkcode resolveRunConfig} fills the rest from
 * {@linkcode DEFAULT_RUN_CONFIG} and rejects unknown keys, wrong types and bad ranges,
 * naming the file and the key.
 *
 * @module
 */
import { basename, join, resolve } from "node:path";
import { existsSync } from "node:fs";
import { readJsonFile } from "../config/json_file.ts";
import { ConfigError } from "../config/errors.ts";
import { type DeepPartial, resolveConfig, type Rule } from "../config/resolve.ts";
import { kitPaths } from "../paths.ts";
import { isPackagePath } from "../lm/model_path.ts";

/** Methods the training stage can fit (Table 1 minus `base`). */
export const TRAINED_METHODS = ["sft", "dpo", "dpo_sft", "tokendpo", "rpo", "cdpo"] as const;

/** Every setting of a run. */
export interface RunConfig {
  /** Seed of everything not given its own seed below. */
  seed: number;
  /** The embedded world; it and its policy are shared by every run with the same settings here. */
  world: {
    /** Problems in the world's train split (sampled for preference data) and test split. */
    trainSize: number;
    testSize: number;
    /** Problems in the pretraining corpus of the tiny policy. */
    pretrainSize: number;
    /** Steps per problem (2..5 supported). 2-3 keeps sequences short: the tiny policy then
     * learns the arithmetic in about 3 CPU minutes. */
    minSteps: number;
    maxSteps: number;
    /** Share of problems with the verb the policy gets wrong greedily (the "owed vs paid" analogue);
     * it caps greedy accuracy near 1 minus this share. */
    greedyTriggerShare: number;
    /** Pretraining of the tiny policy (ignored when a shipped policy matches the world). */
    pretrainSteps: number;
    pretrainBatchSize: number;
    pretrainLr: number;
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
    backend: "ort" | "torch";
    device: "cpu" | "cuda";
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
    sftSteps: number;
    sftLr: number;
    sftBatchSize: number;
  };
  training: {
    methods: string[];
    /** Seeds of every trained method (significance is tested over all of them). */
    seeds: number[];
    steps: number;
    batchSize: number;
    /** Learning rate of the preference objectives. */
    lr: number;
    /** cDPO's own learning rate (paper: 4e-5 against 2e-5 for the baselines); null: `lr`. */
    cdpoLr: number | null;
    /** Learning rate of the SFT baseline. */
    sftLr: number;
    /** DPO and RPO beta. Default 1, the same as cDPO's gamma, so the three sequence objectives
     * differ only in their token weights and RPO's NLL term. */
    beta: number;
    /** TokenDPO's beta (method.md: b = 0.1). */
    tdpoBeta: number;
    /** cDPO gamma (paper: 1.0). */
    gamma: number;
    rpoAlpha: number;
    cdpoForm: "sequence" | "position";
    /** TokenDPO variant. */
    tdpo: "tdpo1" | "tdpo2";
    /** LoRA rank; 0 = full fine-tuning (tiny models). */
    loraRank: number;
  };
  evaluation: {
    /** Test problems evaluated (the first ones of the world's test split); 0 = all. */
    problems: number;
    bootstrapResamples: number;
  };
}

/** The defaults: the embedded demo (`default` preset). */
export const DEFAULT_RUN_CONFIG: RunConfig = {
  seed: 0,
  world: {
    trainSize: 1500,
    testSize: 500,
    pretrainSize: 20000,
    minSteps: 2,
    maxSteps: 3,
    greedyTriggerShare: 0.2,
    pretrainSteps: 1000,
    pretrainBatchSize: 64,
    pretrainLr: 5e-3,
  },
  task: {
    kind: "world",
    trainPath: null,
    testPath: null,
    fewShotPath: null,
    prompt: "auto",
    trainLines: null,
  },
  policy: { path: null, backend: "ort", device: "cpu" },
  sampling: {
    problems: 0,
    perProblem: 16,
    temperature: 0.8,
    topP: 1,
    maxNewTokens: 64,
    testPerProblem: 4,
  },
  rollouts: { trajectories: 30, samples: 32 },
  contrastive: { beta: 1, maxTrajectories: 4000, sftSteps: 150, sftLr: 3e-4, sftBatchSize: 32 },
  training: {
    methods: [...TRAINED_METHODS],
    seeds: [0, 1, 2],
    steps: 120,
    batchSize: 32,
    lr: 5e-5,
    cdpoLr: null,
    sftLr: 1e-4,
    beta: 1,
    tdpoBeta: 0.1,
    gamma: 1,
    rpoAlpha: 1,
    cdpoForm: "sequence",
    tdpo: "tdpo2",
    loraRank: 0,
  },
  evaluation: { problems: 0, bootstrapResamples: 2000 },
};

const positiveInt = { kind: "int", min: 1 } as const;
const positive = { kind: "number", min: 0, exclusiveMin: true } as const;
const RULES: Record<string, Rule> = {
  seed: { kind: "int", min: 0 },
  "world.trainSize": positiveInt,
  "world.testSize": positiveInt,
  "world.pretrainSize": positiveInt,
  "world.minSteps": { kind: "int", min: 1, max: 5 },
  "world.maxSteps": { kind: "int", min: 1, max: 5 },
  "world.greedyTriggerShare": { kind: "number", min: 0, max: 1 },
  "world.pretrainSteps": positiveInt,
  "world.pretrainBatchSize": positiveInt,
  "world.pretrainLr": positive,
  "task.kind": { kind: "enum", values: ["world", "gsm8k", "math500"] },
  "task.trainPath": { kind: "nullableString" },
  "task.testPath": { kind: "nullableString" },
  "task.fewShotPath": { kind: "nullableString" },
  "task.prompt": { kind: "enum", values: ["auto", "chat", "fewshot"] },
  "task.trainLines": { kind: "nullableIntList" },
  "policy.path": { kind: "nullableString" },
  "policy.backend": { kind: "enum", values: ["ort", "torch"] },
  "policy.device": { kind: "enum", values: ["cpu", "cuda"] },
  "sampling.problems": { kind: "int", min: 0 },
  "sampling.perProblem": { kind: "int", min: 2 },
  "sampling.temperature": positive,
  "sampling.topP": { kind: "number", min: 0, exclusiveMin: true, max: 1 },
  "sampling.maxNewTokens": positiveInt,
  "sampling.testPerProblem": positiveInt,
  "rollouts.trajectories": { kind: "int", min: 0 },
  "rollouts.samples": { kind: "int", min: 2 },
  "contrastive.beta": { kind: "number", min: 0 },
  "contrastive.maxTrajectories": { kind: "int", min: 0 },
  "contrastive.sftSteps": positiveInt,
  "contrastive.sftLr": positive,
  "contrastive.sftBatchSize": positiveInt,
  "training.steps": positiveInt,
  "training.batchSize": positiveInt,
  "training.lr": positive,
  "training.cdpoLr": { kind: "nullableNumber", min: 0, exclusiveMin: true },
  "training.sftLr": positive,
  "training.beta": positive,
  "training.tdpoBeta": positive,
  "training.gamma": positive,
  "training.rpoAlpha": { kind: "number", min: 0 },
  "training.cdpoForm": { kind: "enum", values: ["sequence", "position"] },
  "training.tdpo": { kind: "enum", values: ["tdpo1", "tdpo2"] },
  "training.loraRank": { kind: "int", min: 0 },
  "evaluation.problems": { kind: "int", min: 0 },
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
    if (!(TRAINED_METHODS as readonly string[]).includes(m)) {
      throw new ConfigError(
        file,
        `training.methods[${i}]`,
        `one of ${TRAINED_METHODS.join(", ")}`,
        `got "${m}"`,
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
  if (config.training.seeds.length === 0) {
    throw new ConfigError(file, "training.seeds", "at least one seed");
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
  const lines = config.task.trainLines;
  if (lines !== null) {
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
  const user = await readJsonFile(file);
  // A preset may carry a "_comment" for people; it is not a setting.
  if (user && typeof user === "object" && !Array.isArray(user)) {
    delete (user as Record<string, unknown>)._comment;
  }
  return {
    name: basename(file).replace(/\.json$/, ""),
    source: file,
    config: resolveRunConfig(user, file),
  };
}
