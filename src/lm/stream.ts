/**
 * Scoring a stream of any length with flat memory: items are pulled, scored and yielded one
 * batch at a time, so 100k trajectories never sit in memory together.
 * @module
 */
import type { LanguageModel, ScoreItem } from "./types.ts";

/** Options of {@linkcode scoreStream}. */
export interface ScoreStreamOptions {
  /** Items per scoring call. @default {256} */
  chunkSize?: number;
}

/**
 * Yields the per-token log-probs of each item of `items`, in order.
 *
 * @example
 * ```ts ignore
 * for await (const logprobs of scoreStream(model, readTrajectories())) total += logprobs.length;
 * ```
 */
export async function* scoreStream(
  model: LanguageModel,
  items: Iterable<ScoreItem> | AsyncIterable<ScoreItem>,
  options: ScoreStreamOptions = {},
): AsyncGenerator<Float32Array> {
  const chunkSize = options.chunkSize ?? 256;
  let chunk: ScoreItem[] = [];
  for await (const item of items) {
    chunk.push(item);
    if (chunk.length >= chunkSize) {
      yield* await model.scoreContinuations(chunk);
      chunk = [];
    }
  }
  if (chunk.length) yield* await model.scoreContinuations(chunk);
}
