/**
 * Input checks shared by every backend, so a bad item fails the same way everywhere and
 * before any work: each error names the item index and the offending token.
 * @module
 */
import { LmInputError } from "./errors.ts";
import type {
  DistributionItem,
  ModelFacts,
  SampleOptions,
  SamplePrompt,
  ScoreItem,
} from "./types.ts";

/** Throws unless every entry of `tokens` is an integer id in [0, vocab). */
export function checkTokens(
  tokens: readonly number[],
  vocab: number,
  what: string,
  index: number | null,
): void {
  if (!Array.isArray(tokens)) {
    throw new LmInputError(`Cannot use ${what}: expected an array of token ids`, index);
  }
  for (let k = 0; k < tokens.length; k++) {
    const t = tokens[k];
    if (!Number.isInteger(t) || t < 0 || t >= vocab) {
      throw new LmInputError(
        `Cannot use ${what}: token ${k} is ${t}, outside the vocabulary [0, ${vocab})`,
        index,
      );
    }
  }
}

/** Checks a scoring batch: non-empty, ids in range, a non-empty prompt, within the context. */
export function checkScoreItems(items: readonly ScoreItem[], facts: ModelFacts): void {
  if (items.length === 0) throw new LmInputError("Cannot score: the batch is empty");
  items.forEach((item, i) => {
    checkTokens(item.prompt, facts.vocabSize, `item ${i} prompt`, i);
    checkTokens(item.continuation, facts.vocabSize, `item ${i} continuation`, i);
    if (item.prompt.length === 0) {
      throw new LmInputError(
        `Cannot score item ${i}: the prompt is empty; at least one token (e.g. BOS) must precede the continuation`,
        i,
      );
    }
    const n = item.prompt.length + item.continuation.length;
    if (n > facts.maxPositions) {
      throw new LmInputError(
        `Cannot score item ${i}: ${n} tokens exceed the context of ${facts.maxPositions} (max_position_embeddings)`,
        i,
      );
    }
  });
}

/** Checks a distributions batch: non-empty, ids in range, positions inside the sequence. */
export function checkDistributionItems(
  items: readonly DistributionItem[],
  facts: ModelFacts,
): void {
  if (items.length === 0) {
    throw new LmInputError("Cannot compute distributions: the batch is empty");
  }
  items.forEach((item, i) => {
    checkTokens(item.tokens, facts.vocabSize, `item ${i} tokens`, i);
    if (item.tokens.length > facts.maxPositions) {
      throw new LmInputError(
        `Cannot compute distributions for item ${i}: ${item.tokens.length} tokens exceed the context of ${facts.maxPositions}`,
        i,
      );
    }
    for (const p of item.positions) {
      if (!Number.isInteger(p) || p < 0 || p >= item.tokens.length) {
        throw new LmInputError(
          `Cannot compute distributions for item ${i}: position ${p} is outside [0, ${item.tokens.length})`,
          i,
        );
      }
    }
  });
}

/** A sampling request with every default filled in. */
export interface ResolvedSample {
  prompts: { tokens: number[]; forcedPrefix: number[]; maskFirst: number[] }[];
  n: number;
  temperature: number;
  topP: number;
  maxNewTokens: number;
  seed: number;
  firstPromptIndex: number;
  stopTokenIds: number[];
  stopStrings: string[];
  ignoreEos: boolean;
}

/** Fills defaults and checks a sampling request; errors name the prompt index. */
export function resolveSample(options: SampleOptions, facts: ModelFacts): ResolvedSample {
  const { n = 1, temperature = 1, topP = 1, maxNewTokens, seed } = options;
  if (options.prompts.length === 0) {
    throw new LmInputError("Cannot sample: the batch of prompts is empty");
  }
  if (!Number.isInteger(n) || n < 1) {
    throw new LmInputError(`Cannot sample: n is ${n}, expected an integer >= 1`);
  }
  if (!(temperature >= 0) || !Number.isFinite(temperature)) {
    throw new LmInputError(
      `Cannot sample: temperature is ${temperature}, expected a finite number >= 0`,
    );
  }
  if (!(topP > 0 && topP <= 1)) {
    throw new LmInputError(`Cannot sample: topP is ${topP}, expected 0 < topP <= 1`);
  }
  if (!Number.isInteger(maxNewTokens) || maxNewTokens < 0) {
    throw new LmInputError(
      `Cannot sample: maxNewTokens is ${maxNewTokens}, expected an integer >= 0`,
    );
  }
  if (!Number.isInteger(seed)) {
    throw new LmInputError(`Cannot sample: seed is ${seed}, expected an integer`);
  }
  const firstPromptIndex = options.firstPromptIndex ?? 0;
  if (!Number.isInteger(firstPromptIndex) || firstPromptIndex < 0) {
    throw new LmInputError(
      `Cannot sample: firstPromptIndex is ${firstPromptIndex}, expected an integer >= 0`,
    );
  }
  const stopTokenIds = [...(options.stopTokenIds ?? [])];
  checkTokens(stopTokenIds, facts.vocabSize, "stopTokenIds", null);
  const stopStrings = [...(options.stopStrings ?? [])];
  if (stopStrings.some((s) => typeof s !== "string" || s.length === 0)) {
    throw new LmInputError("Cannot sample: every stop string must be a non-empty string");
  }
  const prompts = options.prompts.map((p, i) => {
    const item: SamplePrompt = Array.isArray(p)
      ? { tokens: p as readonly number[] }
      : p as SamplePrompt;
    const tokens = [...item.tokens];
    const forcedPrefix = [...(item.forcedPrefix ?? options.forcedPrefix ?? [])];
    const maskFirst = [...(item.maskFirst ?? options.maskFirst ?? [])];
    checkTokens(tokens, facts.vocabSize, `prompt ${i}`, i);
    checkTokens(forcedPrefix, facts.vocabSize, `prompt ${i} forcedPrefix`, i);
    checkTokens(maskFirst, facts.vocabSize, `prompt ${i} maskFirst`, i);
    const context = tokens.length + forcedPrefix.length;
    if (context === 0) {
      throw new LmInputError(
        `Cannot sample prompt ${i}: it is empty; at least one token (e.g. BOS) is needed`,
        i,
      );
    }
    if (context >= facts.maxPositions) {
      throw new LmInputError(
        `Cannot sample prompt ${i}: ${context} tokens leave no room to generate in the context of ${facts.maxPositions} (max_position_embeddings)`,
        i,
      );
    }
    if (new Set(maskFirst).size >= facts.vocabSize) {
      throw new LmInputError(`Cannot sample prompt ${i}: maskFirst bans every token`, i);
    }
    return { tokens, forcedPrefix, maskFirst };
  });
  return {
    prompts,
    n,
    temperature,
    topP,
    maxNewTokens,
    seed,
    firstPromptIndex,
    stopTokenIds,
    stopStrings,
    ignoreEos: options.ignoreEos ?? false,
  };
}
