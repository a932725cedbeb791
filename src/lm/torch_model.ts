/**
 * The trainer-process backend: the same LanguageModel served by transformers in Python
 * (trainer/cdpo_trainer/lm/ops.py), for CUDA and for checkpoints too large for the ONNX path.
 * @module
 */
import { Trainer, type TrainerStartOptions } from "../trainer/client.ts";
import { planBatches } from "./batching.ts";
import { readModelFacts } from "./model_facts.ts";
import { TextTokenizer } from "./tokenizer.ts";
import type {
  ContrastiveScore,
  DistributionItem,
  LanguageModel,
  ModelFacts,
  Sample,
  SampleOptions,
  ScoreItem,
  StopReason,
} from "./types.ts";
import { checkDistributionItems, checkScoreItems, resolveSample } from "./validate.ts";

/** Options of {@linkcode TorchLanguageModel.load}. */
export interface TorchModelOptions {
  /** A running trainer to load the model into (kept open on close). Default: start one, owned by the model. */
  trainer?: Trainer;
  /** Options for the trainer this model starts when none is given. */
  trainerOptions?: TrainerStartOptions;
  /** @default {"auto"} (CUDA when available) */
  device?: "auto" | "cpu" | "cuda";
  /** @default {"auto"} (bfloat16 on CUDA, float32 on CPU) */
  dtype?: "auto" | "float32" | "bfloat16";
  /** Most sequences per request. @default {32} */
  batchSize?: number;
  /** Most (prompt, sample) rows per sampling request. @default {64} */
  sampleBatchSize?: number;
}

/** A LanguageModel whose forward passes run in the trainer process. */
export class TorchLanguageModel implements LanguageModel {
  readonly backend = "torch" as const;
  readonly facts: ModelFacts;
  /** Where the trainer placed the model, e.g. "cpu" or "cuda". */
  readonly device: string;
  readonly dtype: string;
  readonly #trainer: Trainer;
  readonly #owned: boolean;
  readonly #handle: number;
  readonly #tokenizer: TextTokenizer;
  readonly #batchSize: number;
  readonly #sampleBatchSize: number;

  private constructor(
    trainer: Trainer,
    owned: boolean,
    loaded: Record<string, unknown>,
    facts: ModelFacts,
    tokenizer: TextTokenizer,
    options: TorchModelOptions,
  ) {
    this.#trainer = trainer;
    this.#owned = owned;
    this.#handle = loaded.handle as number;
    this.device = loaded.device as string;
    this.dtype = loaded.dtype as string;
    this.facts = { ...facts, eosTokenIds: loaded.eos_token_ids as number[] };
    this.#tokenizer = tokenizer;
    this.#batchSize = options.batchSize ?? 32;
    this.#sampleBatchSize = options.sampleBatchSize ?? 64;
  }

  /** Loads the Hugging Face model directory `dir` into a trainer process. */
  static async load(dir: string, options: TorchModelOptions = {}): Promise<TorchLanguageModel> {
    const facts = await readModelFacts(dir);
    const tokenizer = await TextTokenizer.load(dir);
    const owned = options.trainer === undefined;
    const trainer = options.trainer ?? await Trainer.start(options.trainerOptions);
    try {
      const loaded = await trainer.request("lm_load", {
        model_dir: dir,
        device: options.device ?? "auto",
        dtype: options.dtype ?? "auto",
      });
      return new TorchLanguageModel(trainer, owned, loaded, facts, tokenizer, options);
    } catch (e) {
      if (owned) await trainer.close();
      throw e;
    }
  }

  tokenize(text: string, options: { addSpecialTokens?: boolean } = {}): number[] {
    return this.#tokenizer.encode(text, options.addSpecialTokens ?? false);
  }

  detokenize(ids: readonly number[]): string {
    return this.#tokenizer.decode(ids);
  }

  async close(): Promise<void> {
    if (this.#owned) {
      await this.#trainer.close();
    } else {
      await this.#trainer.request("lm_unload", { handle: this.#handle });
    }
  }

  async scoreContinuations(items: readonly ScoreItem[]): Promise<Float32Array[]> {
    checkScoreItems(items, this.facts);
    const out: Float32Array[] = new Array(items.length);
    for (const group of this.#plan(items.map((it) => it.prompt.length + it.continuation.length))) {
      const result = await this.#trainer.request("lm_score", {
        handle: this.#handle,
        items: group.map((i) => ({ prompt: items[i].prompt, continuation: items[i].continuation })),
      });
      (result.logprobs as number[][]).forEach((lp, k) => out[group[k]] = Float32Array.from(lp));
    }
    return out;
  }

  /** s_t against `neg` in the trainer (op lm_contrastive), when `neg` lives in the same trainer. */
  async contrastiveScores(
    neg: LanguageModel,
    items: readonly ScoreItem[],
    betas: readonly number[],
  ): Promise<ContrastiveScore[] | null> {
    const other = neg instanceof TorchLanguageModel
      ? neg
      : await (neg as { torchModel?: () => Promise<LanguageModel | null> }).torchModel?.();
    if (!(other instanceof TorchLanguageModel) || other.#trainer !== this.#trainer) return null;
    checkScoreItems(items, this.facts);
    const out: ContrastiveScore[] = new Array(items.length);
    for (const group of this.#plan(items.map((it) => it.prompt.length + it.continuation.length))) {
      const result = await this.#trainer.request("lm_contrastive", {
        pos: this.#handle,
        neg: other.#handle,
        items: group.map((i) => ({ prompt: items[i].prompt, continuation: items[i].continuation })),
        betas,
      });
      (result.scores as { s: number[][]; lp_pos: number[]; lp_neg: number[] }[]).forEach((r, k) => {
        out[group[k]] = {
          s: r.s.map((row) => Float64Array.from(row)),
          lpPos: Float32Array.from(r.lp_pos),
          lpNeg: Float32Array.from(r.lp_neg),
        };
      });
    }
    return out;
  }

  async nextTokenDistributions(items: readonly DistributionItem[]): Promise<Float32Array[]> {
    checkDistributionItems(items, this.facts);
    return await this.#distributions(items);
  }

  async continuationDistributions(items: readonly ScoreItem[]): Promise<Float32Array[]> {
    checkScoreItems(items, this.facts);
    return await this.#distributions(items.map((it) => ({
      tokens: [...it.prompt, ...it.continuation.slice(0, -1)],
      positions: it.continuation.map((_, t) => it.prompt.length - 1 + t),
    })));
  }

  async #distributions(items: readonly DistributionItem[]): Promise<Float32Array[]> {
    const out: Float32Array[] = new Array(items.length);
    const todo = items.map((_, i) => i).filter((i) => items[i].positions.length > 0);
    for (const i of items.keys()) if (items[i].positions.length === 0) out[i] = new Float32Array(0);
    for (const group of this.#plan(todo.map((i) => items[i].tokens.length))) {
      const ids = group.map((k) => todo[k]);
      const result = await this.#trainer.request("lm_distributions", {
        handle: this.#handle,
        items: ids.map((i) => ({ tokens: items[i].tokens, positions: items[i].positions })),
      });
      (result.rows as string[]).forEach((b64, k) => out[ids[k]] = decodeFloat32(b64));
    }
    return out;
  }

  #plan(lengths: number[]): number[][] {
    return planBatches(lengths, {
      maxItems: this.#batchSize,
      maxLogits: 64 * 1024 * 1024,
      vocab: this.facts.vocabSize,
    });
  }

  async sample(options: SampleOptions): Promise<Sample[]> {
    const req = resolveSample(options, this.facts);
    const samples: Sample[] = [];
    // Whole prompts per request, about sampleBatchSize rows each; the trainer derives each row's
    // random stream from the absolute prompt index, so chunking never changes a sample.
    const perRequest = Math.max(1, Math.floor(this.#sampleBatchSize / req.n));
    for (let start = 0; start < req.prompts.length; start += perRequest) {
      const chunk = req.prompts.slice(start, start + perRequest);
      const result = await this.#trainer.request("lm_sample", {
        handle: this.#handle,
        prompts: chunk.map((p, k) => ({
          index: req.firstPromptIndex + start + k,
          tokens: p.tokens,
          forced_prefix: p.forcedPrefix,
          mask_first: p.maskFirst,
        })),
        n: req.n,
        temperature: req.temperature,
        top_p: req.topP,
        max_new_tokens: req.maxNewTokens,
        seed: req.seed,
        stop_token_ids: req.stopTokenIds,
        stop_strings: req.stopStrings,
        ignore_eos: req.ignoreEos,
      }, {
        onEvent: (e) => {
          if (e.type === "progress") options.onProgress?.(e.done as number, e.total as number);
        },
      });
      for (const s of result.samples as Record<string, unknown>[]) {
        samples.push({
          // The trainer answers with the stream label; the sample belongs to req.prompts[label - first].
          promptIndex: (s.prompt_index as number) - req.firstPromptIndex,
          sampleIndex: s.sample_index as number,
          tokens: s.tokens as number[],
          logprobs: s.logprobs as number[],
          stopReason: s.stop_reason as StopReason,
        });
      }
    }
    return samples;
  }

  /** transformers' own `generate()` on the same prompts (reference and benchmarks; torch's RNG, not the kit's). */
  async generate(options: SampleOptions): Promise<number[][]> {
    const req = resolveSample(options, this.facts);
    const result = await this.#trainer.request("lm_generate", {
      handle: this.#handle,
      prompts: req.prompts.map((p) => [...p.tokens, ...p.forcedPrefix]),
      n: req.n,
      temperature: req.temperature,
      top_p: req.topP,
      max_new_tokens: req.maxNewTokens,
      seed: req.seed,
      ignore_eos: req.ignoreEos,
    });
    return result.tokens as number[][];
  }
}

function decodeFloat32(b64: string): Float32Array {
  const bin = atob(b64);
  const bytes = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) bytes[i] = bin.charCodeAt(i);
  // The trainer writes little-endian float32, which is every platform Deno runs on.
  return new Float32Array(bytes.buffer);
}
