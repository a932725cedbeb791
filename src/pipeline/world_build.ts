/**
 * The embedded world's policy: corpus, tokenizer and a tiny Llama pretrained from scratch,
 * cached by the hash of everything that determines it. A policy shipped in data/policy/ whose
 * recorded hash matches is used as is; otherwise the policy is built in .cache/world/<hash>/
 * (reproducibly: same settings, same bytes on CPU).
 *
 * @module
 */
import { existsSync } from "node:fs";
import { join } from "node:path";
import { hashJson } from "../io/hash.ts";
import { produceAtomic, writeJsonAtomic } from "../io/atomic.ts";
import { kitPaths } from "../paths.ts";
import type { Trainer } from "../trainer/client.ts";
import { generateSplits, type WorldSplits } from "../tasks/world/generator.ts";
import { resolveWorldParams, type WorldParams } from "../tasks/world/params.ts";
import { pretrainingCorpus, writeJsonl } from "../tasks/world/corpus.ts";
import type { RunConfig } from "../run/config.ts";
import type { ProgressSink } from "./progress.ts";

/** Bump when the corpus format or the build recipe changes: old caches are then ignored. */
export const WORLD_BUILD_VERSION = 1;

/** The shipped policy's folder. */
export const SHIPPED_POLICY_DIR = join(kitPaths.data, "policy");

/** A world and where its policy lives. */
export interface BuiltWorld {
  hash: string;
  params: WorldParams;
  splits: WorldSplits;
  policyDir: string;
  /** "shipped" (data/policy), "cache" (.cache/world) or "built" (just now). */
  origin: "shipped" | "cache" | "built";
}

/** What determines the policy: the world, its seed and the pretraining recipe. */
export function worldIdentity(config: RunConfig) {
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
    identity: {
      version: WORLD_BUILD_VERSION,
      params,
      seed: config.seed,
      pretrain: { steps: w.pretrainSteps, batchSize: w.pretrainBatchSize, lr: w.pretrainLr },
    },
  };
}

async function recordedHash(dir: string): Promise<string | null> {
  const path = join(dir, "world.json");
  if (!existsSync(path) || !existsSync(join(dir, "model.onnx"))) return null;
  try {
    return (JSON.parse(await Deno.readTextFile(path)) as { hash?: string }).hash ?? null;
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
  const { params, identity } = worldIdentity(config);
  const hash = await hashJson(identity);
  const splits = generateSplits(params, config.seed);
  if ((await recordedHash(SHIPPED_POLICY_DIR)) === hash) {
    return { hash, params, splits, policyDir: SHIPPED_POLICY_DIR, origin: "shipped" };
  }
  const cacheDir = join(kitPaths.worldCache, hash.slice(0, 16));
  const policyDir = join(cacheDir, "policy");
  if ((await recordedHash(policyDir)) === hash) {
    return { hash, params, splits, policyDir, origin: "cache" };
  }

  progress.log(
    `world: building the tiny policy (world ${hash.slice(0, 12)}); this runs once per world config`,
  );
  const corpus = pretrainingCorpus(splits.pretrain, params, config.seed);
  const corpusPath = join(cacheDir, "corpus.jsonl");
  await writeJsonl(corpusPath, corpus.records);
  const t = await trainer();
  const tokenizer = await t.request("train_tokenizer", {
    corpus_path: corpusPath,
    out_dir: join(cacheDir, "tokenizer"),
  });
  const tokenizerPath = String(tokenizer.tokenizer_path);
  const w = config.world;
  progress.start("world: pretraining", w.pretrainSteps);
  await produceAtomic(policyDir, async (tmp) => {
    const result = await t.request("pretrain", {
      corpus_path: corpusPath,
      tokenizer_path: tokenizerPath,
      out_dir: tmp,
      seed: config.seed,
      steps: w.pretrainSteps,
      batch_size: w.pretrainBatchSize,
      lr: w.pretrainLr,
      export_onnx: true,
    }, {
      onEvent: (e) => {
        if (e.type === "progress") {
          progress.update(
            Number(e.done),
            typeof e.loss === "number" ? `loss ${e.loss.toFixed(3)}` : "",
          );
        }
      },
    });
    progress.finish();
    await writeJsonAtomic(join(tmp, "world.json"), {
      hash,
      identity,
      noise: corpus.report,
      // Timings are left out: the record must be the same bytes for the same world.
      pretrain: {
        parameters: result.parameters,
        vocab_size: result.vocab_size,
        examples: result.examples,
        steps: result.steps,
        first_loss: result.first_loss,
        final_loss: result.final_loss,
      },
    });
  });
  return { hash, params, splits, policyDir, origin: "built" };
}
