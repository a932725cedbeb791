/**
 * The embedded world's policy: corpus, tokenizer and a tiny Llama pretrained from scratch, kept
 * by its key. The key hashes every setting that shapes the policy (the world's parameters and
 * seed, the model's shape, the pretraining recipe), the exact corpus the generator wrote (its
 * product, cheaper and more precise to hash than the generator's source), and the code of the
 * trainer that turns that corpus into weights (see code_identity.ts) with its pinned
 * dependencies. A policy shipped in data/policy/ whose recorded key matches is used as is;
 * otherwise the policy is built in .cache/world/<key>/ (reproducibly: same settings, same bytes
 * on CPU).
 *
 * Pretraining is the trainer's `sft` op on the encoded corpus, from a seeded initial policy: the
 * same loop, schedule and checkpointing as every other objective, resumable when killed.
 *
 * @module
 */
import { existsSync } from "node:fs";
import { join } from "node:path";
import { hashJson, sha256 } from "../io/hash.ts";
import { produceAtomic, writeFileAtomic, writeJsonAtomic } from "../io/atomic.ts";
import { copy } from "../io/copy.ts";
import { readJsonl, toJsonl } from "../io/jsonl.ts";
import { kitPaths } from "../paths.ts";
import type { Trainer } from "../trainer/client.ts";
import { generateSplits, type WorldSplits } from "../tasks/world/generator.ts";
import { resolveWorldParams, type WorldParams } from "../tasks/world/params.ts";
import { pretrainingCorpus } from "../tasks/world/corpus.ts";
import type { RunConfig } from "../run/config.ts";
import { codeIdentity } from "./code_identity.ts";
import type { ProgressSink } from "./progress.ts";

/** The shipped policy's folder. */
export const SHIPPED_POLICY_DIR = join(kitPaths.data, "policy");

/** The trainer modules that build the policy: the world's ops and the training loop. */
export const WORLD_TRAINER_MODULES = ["cdpo_trainer.world.ops", "cdpo_trainer.train.ops"];

/** Pretraining's learning-rate schedule and batch order (the rest of the recipe is config). */
export const PRETRAIN_SCHEDULE = "cosine";
export const PRETRAIN_BATCHING = "length_bucketed";

/** The command that rebuilds the shipped policy, for messages. */
export const SHIP_COMMAND = "deno task world --ship";

/** A world and where its policy lives. */
export interface BuiltWorld {
  /** The policy's key (what data/policy/world.json records). */
  key: string;
  params: WorldParams;
  splits: WorldSplits;
  policyDir: string;
  /** "shipped" (data/policy), "cache" (.cache/world) or "built" (just now). */
  origin: "shipped" | "cache" | "built";
}

/** Every setting that shapes the policy, as the config gives it. */
export function worldSettings(config: RunConfig) {
  const w = config.world;
  const params = resolveWorldParams({
    trainSize: w.trainSize,
    testSize: w.testSize,
    pretrainSize: w.pretrainSize,
    minSteps: w.minSteps,
    maxSteps: w.maxSteps,
    greedyTriggerShare: w.greedyTriggerShare,
  });
  return {
    params,
    settings: {
      params,
      seed: config.seed,
      model: w.model,
      pretrain: { ...w.pretrain, schedule: PRETRAIN_SCHEDULE, batching: PRETRAIN_BATCHING },
    },
  };
}

/** The world's splits, its pretraining corpus as JSONL text, and the policy's key. */
export async function worldKey(config: RunConfig) {
  const { params, settings } = worldSettings(config);
  const splits = generateSplits(params, config.seed);
  const corpus = pretrainingCorpus(splits.pretrain, params, config.seed);
  const corpusText = toJsonl(corpus.records);
  const key = await hashJson({
    settings,
    corpus: await sha256(corpusText),
    code: await codeIdentity([], WORLD_TRAINER_MODULES),
  });
  return { key, params, settings, splits, corpus, corpusText };
}

/** The key data/policy/world.json records, or null when there is no complete policy there. */
export async function recordedKey(dir: string): Promise<string | null> {
  const path = join(dir, "world.json");
  if (!existsSync(path) || !existsSync(join(dir, "model.safetensors"))) return null;
  try {
    return (JSON.parse(await Deno.readTextFile(path)) as { key?: string }).key ?? null;
  } catch {
    return null;
  }
}

/** The world of `config`, building its policy if no shipped or cached one matches. */
export async function buildWorld(
  config: RunConfig,
  trainer: () => Promise<Trainer>,
  progress: ProgressSink,
): Promise<BuiltWorld> {
  const { key, params, settings, splits, corpus, corpusText } = await worldKey(config);
  if ((await recordedKey(SHIPPED_POLICY_DIR)) === key) {
    return { key, params, splits, policyDir: SHIPPED_POLICY_DIR, origin: "shipped" };
  }
  const cacheDir = join(kitPaths.worldCache, key.slice(0, 16));
  const policyDir = join(cacheDir, "policy");
  if ((await recordedKey(policyDir)) === key) {
    return { key, params, splits, policyDir, origin: "cache" };
  }

  progress.log(
    `world: building the tiny policy (key ${key.slice(0, 12)}); this runs once per world, ` +
      `unless \`${SHIP_COMMAND}\` ships it`,
  );
  const corpusPath = join(cacheDir, "corpus.jsonl");
  await writeFileAtomic(corpusPath, corpusText);
  const t = await trainer();
  const m = config.world.model;
  const tokenizer = await t.request("train_tokenizer", {
    corpus_path: corpusPath,
    out_dir: join(cacheDir, "tokenizer"),
    model_max_length: m.maxPositions,
  });
  const init = await t.request("init_policy", {
    tokenizer_path: String(tokenizer.tokenizer_path),
    out_dir: join(cacheDir, "init"),
    seed: config.seed,
    model: {
      hidden_size: m.hiddenSize,
      intermediate_size: m.intermediateSize,
      num_hidden_layers: m.layers,
      num_attention_heads: m.heads,
      num_key_value_heads: m.kvHeads,
      max_position_embeddings: m.maxPositions,
      rms_norm_eps: m.rmsNormEps,
      rope_theta: m.ropeTheta,
      initializer_range: m.initializerRange,
      tie_word_embeddings: m.tieEmbeddings,
    },
  });
  const examples = await t.request("encode_corpus", {
    corpus_path: corpusPath,
    tokenizer_path: String(tokenizer.tokenizer_path),
    out_path: join(cacheDir, "examples.jsonl"),
  });
  if (Number(examples.max_sequence_tokens) > m.maxPositions) {
    throw new Error(
      `Cannot pretrain the world policy: the corpus holds a sequence of ${examples.max_sequence_tokens} ` +
        `tokens, longer than world.model.maxPositions ${m.maxPositions}; raise it`,
    );
  }
  const p = config.world.pretrain;
  progress.start("world: pretraining", p.steps);
  const result = await t.request("sft", {
    model_dir: String(init.model_dir),
    data_path: String(examples.examples_path),
    out_dir: join(cacheDir, "pretrain"),
    lr: p.lr,
    batch_size: p.batchSize,
    steps: p.steps,
    seed: config.seed,
    schedule: PRETRAIN_SCHEDULE,
    warmup_steps: p.warmupSteps,
    min_lr_ratio: p.minLrRatio,
    max_grad_norm: p.maxGradNorm,
    weight_decay: p.weightDecay,
    adam_betas: p.adamBetas,
    batching: PRETRAIN_BATCHING,
    lora: null,
    dtype: "float32",
    eval_pairs_path: null,
    eval_every: 0,
    checkpoint_every: p.checkpointEvery,
    // Exported whatever the run's backend: the shipped policy serves every backend.
    export_onnx: true,
    resume: true,
    ref_cache_dir: null,
    device: "cpu",
  }, {
    onEvent: (e) => {
      if (e.type === "metric") {
        progress.update(
          Number(e.step),
          typeof e.loss === "number" ? `loss ${e.loss.toFixed(3)}` : "",
        );
      }
    },
  });
  progress.finish();
  if (typeof result.onnx_error === "string" && result.onnx_error) {
    throw new Error(`Cannot export the world policy to ONNX: ${result.onnx_error}`);
  }
  const losses = (await readJsonl<{ loss: number }>(String(result.metrics_path))).map((r) =>
    r.loss
  );
  await produceAtomic(policyDir, async (tmp) => {
    await copy(String(result.model_dir), tmp);
    await writeJsonAtomic(join(tmp, "world.json"), {
      key,
      settings,
      noise: corpus.report,
      // Timings are left out: the record must be the same bytes for the same world.
      pretrain: {
        parameters: init.parameters,
        vocab_size: init.vocab_size,
        examples: examples.examples,
        steps: result.steps,
        first_loss: losses[0],
        final_loss: losses.at(-1),
      },
    });
  });
  return { key, params, splits, policyDir, origin: "built" };
}
