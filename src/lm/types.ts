/**
 * The one interface every language-model backend implements, and its argument types.
 * @module
 */

/** Facts about a loaded model that callers need to build valid inputs. */
export interface ModelFacts {
  /** Number of rows of the logits (token ids are `0 .. vocabSize - 1`). */
  vocabSize: number;
  /** The context length (`max_position_embeddings`): prompt + continuation must fit. */
  maxPositions: number;
  /** Token ids that end a generation (from generation_config.json, else config.json). */
  eosTokenIds: number[];
  bosTokenId: number | null;
  padTokenId: number | null;
}

/** A prompt and the continuation whose tokens are scored. */
export interface ScoreItem {
  /** Conditioning tokens (not scored); at least one, e.g. BOS. */
  prompt: readonly number[];
  /** Tokens to score, each given everything before it. */
  continuation: readonly number[];
}

/** A token sequence and the positions after which the next-token distribution is wanted. */
export interface DistributionItem {
  tokens: readonly number[];
  /** Indices into `tokens`: row k is the distribution of the token following `tokens[positions[k]]`. */
  positions: readonly number[];
}

/** One prompt of a sampling request, optionally with its own forced prefix and first-token mask. */
export interface SamplePrompt {
  tokens: readonly number[];
  /** Response tokens to continue from (not returned, not sampled). Overrides the request's. */
  forcedPrefix?: readonly number[];
  /** Token ids banned at the first sampled position. Overrides the request's. */
  maskFirst?: readonly number[];
}

/** A sampling request. Every (prompt, sample) pair has its own random stream, so results do not depend on batching. */
export interface SampleOptions {
  prompts: readonly (readonly number[] | SamplePrompt)[];
  /** Samples per prompt. @default {1} */
  n?: number;
  /** 0 = greedy. @default {1} */
  temperature?: number;
  /** Nucleus mass kept (0, 1]. @default {1} */
  topP?: number;
  maxNewTokens: number;
  seed: number;
  /** Generation also ends after any of these ids (the id is kept). */
  stopTokenIds?: readonly number[];
  /** Generation ends once the decoded new tokens contain one of these (the tokens are kept). */
  stopStrings?: readonly string[];
  /** Default forced prefix for prompts that do not set one. */
  forcedPrefix?: readonly number[];
  /** Default first-position ban for prompts that do not set one ("without critical token"). */
  maskFirst?: readonly number[];
  /** Do not stop at EOS (benchmarks: fixed-length generations). @default {false} */
  ignoreEos?: boolean;
  /**
   * The random-stream label of `prompts[0]`: prompt i draws from the streams of
   * (seed, firstPromptIndex + i, sample j). A long request split into pieces this way gives the
   * same samples as one call. @default {0}
   */
  firstPromptIndex?: number;
  /** Called after each decoding step of each batch. */
  onProgress?: (done: number, total: number) => void;
}

/** Why a sample ended. `length`: maxNewTokens or the end of the context. */
export type StopReason = "eos" | "stop_token" | "stop_string" | "length";

/** One generated continuation. */
export interface Sample {
  promptIndex: number;
  sampleIndex: number;
  /** New tokens only (after the prompt and forced prefix), including the stopping token. */
  tokens: number[];
  /** Log-prob of each new token under the model itself (temperature 1, no top-p, no mask). */
  logprobs: number[];
  stopReason: StopReason;
}

/** Per-token contrastive estimation of one item: s_t at each beta asked, and the two models'
 * log-probs of the token. */
export interface ContrastiveScore {
  s: Float64Array[];
  lpPos: Float32Array;
  lpNeg: Float32Array;
}

/** A causal language model: tokenizer, scoring, next-token distributions and seeded sampling. */
export interface LanguageModel {
  readonly facts: ModelFacts;
  /** Which implementation serves the calls. */
  readonly backend: "ort" | "torch" | "vllm";
  /**
   * Token ids of `text`; unknown words map to the unknown token. Special tokens written in the
   * text (e.g. `<|im_start|>`) are read as such. With `addSpecialTokens` the tokenizer's own
   * post-processor adds what it adds (BOS for tokenizers that say so, nothing for others).
   * @default {addSpecialTokens: false}
   */
  tokenize(text: string, options?: { addSpecialTokens?: boolean }): number[];
  /** Text of `ids` (special tokens kept). */
  detokenize(ids: readonly number[]): string;
  /** Per-token log-probs of every continuation (one Float32Array per item, length = continuation length). */
  scoreContinuations(items: readonly ScoreItem[]): Promise<Float32Array[]>;
  /** Full next-token log-prob vectors: per item a row-major [positions.length, vocab] matrix. */
  nextTokenDistributions(items: readonly DistributionItem[]): Promise<Float32Array[]>;
  /** Next-token log-probs at every continuation position: per item [continuation.length, vocab];
   * row t is the distribution that `continuation[t]` was drawn from. */
  continuationDistributions(items: readonly ScoreItem[]): Promise<Float32Array[]>;
  /** Seeded sampling; the same options give the same tokens. Results are ordered by prompt, then sample. */
  sample(options: SampleOptions): Promise<Sample[]>;
  /**
   * Contrastive scores against `neg` formed where both models run, when that is possible (both
   * in one trainer process); else null, and the caller works from the full distributions. At a
   * vocabulary of 128k those are half a megabyte per token; this returns three numbers.
   */
  contrastiveScores?(
    neg: LanguageModel,
    items: readonly ScoreItem[],
    betas: readonly number[],
  ): Promise<ContrastiveScore[] | null>;
  /** Releases the session or the trainer's copy of the model. */
  close(): Promise<void>;
}
