/**
 * The in-process backend: the exported ONNX graph (see trainer/cdpo_trainer/models/onnx_export.py)
 * run by onnxruntime-node, with batched KV-cache decoding.
 * @module
 */
import * as ort from "onnxruntime-node";
import { Random } from "../random.ts";
import { DEFAULT_MAX_LOGITS, planBatches } from "./batching.ts";
import { ModelFileError } from "./errors.ts";
import { KV_CHUNK, KvCache } from "./kv_cache.ts";
import { type OnnxFacts, readOnnxFacts } from "./model_facts.ts";
import { logSoftmaxInto, logSumExp, SelectScratch, selectToken } from "./sampling.ts";
import { StopStrings } from "./stop.ts";
import { TextTokenizer } from "./tokenizer.ts";
import type {
  DistributionItem,
  LanguageModel,
  Sample,
  SampleOptions,
  ScoreItem,
  StopReason,
} from "./types.ts";
import { checkDistributionItems, checkScoreItems, resolveSample } from "./validate.ts";

/** Options of {@linkcode OrtLanguageModel.load}. */
export interface OrtModelOptions {
  /** The graph to run. @default {`<dir>/model.onnx`} */
  onnxPath?: string;
  /** Where to run. "cuda" needs onnxruntime-node's CUDA provider and CUDA libraries. @default {"cpu"} */
  executionProvider?: "cpu" | "cuda";
  /** Threads inside one operator (0 = onnxruntime's choice). @default {0} */
  threads?: number;
  /**
   * Threads inside one operator of the decode graph (sampling; 0 = onnxruntime's choice). For a
   * tiny model one step's operators take tens of microseconds, too little to split, and idle
   * workers spin on cores other work needs; a real model's steps are worth splitting.
   * @default {1 below a hidden size of 512, else 0}
   */
  sampleThreads?: number;
  /** Most sequences per scoring forward pass. @default {32} */
  batchSize?: number;
  /** Most sequences decoded together when sampling. @default {64} */
  sampleBatchSize?: number;
  /** Most logits values held per forward pass. @default {64 Mi} */
  maxLogits?: number;
}

/** A LanguageModel served by onnxruntime-node in this process. */
export class OrtLanguageModel implements LanguageModel {
  readonly backend = "ort" as const;
  readonly facts: OnnxFacts;
  /** The session scoring runs: the score graph (see `load`) or the main graph. */
  readonly #session: ort.InferenceSession;
  /** Whether `#session` is the score graph (inputs input_ids and target_ids, log-prob outputs). */
  readonly #scoreGraph: boolean;
  readonly #tokenizer: TextTokenizer;
  readonly #options: Required<Omit<OrtModelOptions, "onnxPath" | "executionProvider">>;
  readonly #pastNames: string[];
  readonly #presentNames: string[];
  readonly #newNames: string[];
  readonly #pad: number;
  /** The decode graph's session (format v2 exports), opened on the first `sample` call. */
  #decodeSession: Promise<ort.InferenceSession> | null = null;
  readonly #decodePath: string | null;
  readonly #sessionOptions: ort.InferenceSession.SessionOptions;

  private constructor(
    session: ort.InferenceSession,
    scoreGraph: boolean,
    facts: OnnxFacts,
    tokenizer: TextTokenizer,
    options: OrtModelOptions,
    decodePath: string | null,
    sessionOptions: ort.InferenceSession.SessionOptions,
  ) {
    this.#session = session;
    this.#scoreGraph = scoreGraph;
    this.#decodePath = decodePath;
    this.#sessionOptions = sessionOptions;
    this.facts = facts;
    this.#tokenizer = tokenizer;
    this.#options = {
      threads: options.threads ?? 0,
      sampleThreads: options.sampleThreads ?? (facts.hiddenSize >= 512 ? 0 : 1),
      batchSize: options.batchSize ?? 32,
      sampleBatchSize: options.sampleBatchSize ?? 64,
      maxLogits: options.maxLogits ?? DEFAULT_MAX_LOGITS,
    };
    this.#pastNames = [];
    this.#presentNames = [];
    this.#newNames = [];
    for (let i = 0; i < facts.numLayers; i++) {
      for (const kind of ["key", "value"]) {
        this.#pastNames.push(`past_key_values.${i}.${kind}`);
        this.#presentNames.push(`present.${i}.${kind}`);
        this.#newNames.push(`new_key_values.${i}.${kind}`);
      }
    }
    this.#pad = facts.padTokenId ?? 0;
  }

  /**
   * Opens the ONNX export of the model in `dir` (run `export_onnx` first). On CPU, scoring runs the
   * score graph of v3 exports (fused causal attention, log-probs computed in the graph); elsewhere,
   * and for older exports, the main graph. Every graph the export names must exist; the decode graph is
   * opened on the first `sample` call.
   */
  static async load(dir: string, options: OrtModelOptions = {}): Promise<OrtLanguageModel> {
    const onnxPath = options.onnxPath ?? `${dir}/model.onnx`;
    await mustExist(onnxPath, `export it with python -m cdpo_trainer.models.onnx_export ${dir}`);
    const facts = await readOnnxFacts(onnxPath);
    const beside = (name: string | null) =>
      name === null ? null : onnxPath.slice(0, onnxPath.lastIndexOf("/") + 1) + name;
    const decodePath = beside(facts.decodeGraph);
    const scorePath = beside(facts.scoreGraph);
    const dataPath = beside(facts.dataFile);
    if (dataPath) {
      await mustExist(dataPath, `re-export the model (its graphs keep their weights in this file)`);
    }
    for (const path of [decodePath, scorePath]) {
      if (path) {
        await mustExist(path, `re-export the model (it names this graph in ${onnxPath}.json)`);
      }
    }
    const tokenizer = await TextTokenizer.load(dir);
    const provider = options.executionProvider ?? "cpu";
    const sessionOptions: ort.InferenceSession.SessionOptions = {
      executionProviders: [provider],
      graphOptimizationLevel: "all",
      intraOpNumThreads: options.threads ?? 0,
      interOpNumThreads: 1,
    };
    // The score graph is tuned and tested on CPU; the CUDA provider gets the main graph (opset 18,
    // whose operators all have CUDA kernels). Without a decode graph, sampling runs the scoring
    // session, which must then be the main graph (every export with a score graph has both).
    const useScoreGraph = provider === "cpu" && scorePath !== null && decodePath !== null;
    const path = useScoreGraph ? scorePath : onnxPath;
    let session: ort.InferenceSession;
    try {
      session = await ort.InferenceSession.create(path, sessionOptions);
    } catch (e) {
      const message = (e as Error).message;
      if (provider === "cuda") {
        throw new ModelFileError(
          `Cannot use onnxruntime's CUDA execution provider: ${message}. onnxruntime-node needs ` +
            `libonnxruntime_providers_cuda.so beside its libonnxruntime.so (fetched by its install script: ` +
            `deno approve-scripts npm:onnxruntime-node) plus CUDA 12 and cuDNN 9 on the library path; ` +
            `or use the torch backend`,
          path,
          { cause: e },
        );
      }
      throw new ModelFileError(`Cannot load ONNX model ${path}: ${message}`, path, { cause: e });
    }
    return new OrtLanguageModel(
      session,
      useScoreGraph,
      facts,
      tokenizer,
      options,
      decodePath,
      sessionOptions,
    );
  }

  tokenize(text: string, options: { addSpecialTokens?: boolean } = {}): number[] {
    return this.#tokenizer.encode(text, options.addSpecialTokens ?? false);
  }

  detokenize(ids: readonly number[]): string {
    return this.#tokenizer.decode(ids);
  }

  async close(): Promise<void> {
    await this.#session.release();
    if (this.#decodeSession) await (await this.#decodeSession).release();
  }

  /** The decode graph's session, or null for v1 exports (sampling then runs the main graph). */
  #decoder(): Promise<ort.InferenceSession> | null {
    if (this.#decodePath === null) return null;
    const path = this.#decodePath;
    const options = { ...this.#sessionOptions, intraOpNumThreads: this.#options.sampleThreads };
    this.#decodeSession ??= ort.InferenceSession.create(path, options).catch((e) => {
      this.#decodeSession = null;
      throw new ModelFileError(
        `Cannot load the decode graph ${path}: ${(e as Error).message}; re-export the model`,
        path,
        { cause: e },
      );
    });
    return this.#decodeSession;
  }

  /**
   * Feeds of the main and decode graphs (their inputs are the same contract): the cache's buffers
   * as the past, or zero-length pasts when `cache` is null.
   */
  #contractFeeds(
    ids: BigInt64Array,
    mask: BigInt64Array,
    pos: BigInt64Array,
    batch: number,
    seq: number,
    cache: KvCache | null,
  ): Record<string, ort.Tensor> {
    const feeds: Record<string, ort.Tensor> = {
      input_ids: new ort.Tensor("int64", ids, [batch, seq]),
      attention_mask: new ort.Tensor("int64", mask, [batch, mask.length / batch]),
      position_ids: new ort.Tensor("int64", pos, [batch, seq]),
    };
    const { numKvHeads, headDim } = this.facts;
    const empty = new ort.Tensor("float32", new Float32Array(0), [batch, numKvHeads, 0, headDim]);
    this.#pastNames.forEach((name, k) =>
      feeds[name] = cache ? new ort.Tensor("float32", cache.view(k), cache.dims) : empty
    );
    return feeds;
  }

  /**
   * One sampling forward pass over the cache's slots (null = prefill with an empty cache): the
   * newest position's logits (row b at `b * vocab`) and the keys/values of the fed tokens
   * (`[B, kvHeads, slots, headDim]`, the fed ones at slots `[from, from + seq)`).
   */
  async #step(
    ids: BigInt64Array,
    mask: BigInt64Array,
    pos: BigInt64Array,
    batch: number,
    seq: number,
    cache: KvCache | null,
  ): Promise<{ last: Float32Array; kv: Float32Array[]; slots: number; from: number }> {
    const decoder = this.#decoder();
    const feeds = this.#contractFeeds(ids, mask, pos, batch, seq, cache);
    const past = cache ? cache.capacity : 0;
    if (decoder) {
      const out = await (await decoder).run(feeds);
      return {
        last: out.last_logits.data as Float32Array,
        kv: this.#newNames.map((n) => out[n].data as Float32Array),
        slots: seq,
        from: 0,
      };
    }
    const out = await this.#session.run(feeds);
    const V = this.facts.vocabSize;
    const logits = out.logits.data as Float32Array;
    const last = new Float32Array(batch * V);
    for (let b = 0; b < batch; b++) {
      last.set(logits.subarray((b * seq + seq - 1) * V, (b * seq + seq) * V), b * V);
    }
    return {
      last,
      kv: this.#presentNames.map((n) => out[n].data as Float32Array),
      slots: past + seq,
      from: past,
    };
  }

  /**
   * Runs right-padded sequences in planned batches. Per batch, `take` gets the item index and the
   * row of the batch it sits in, plus a reader of log-probs: `lp.target(row, p)` is the log-prob
   * of `targets[item][p]` at position p, `lp.rowInto(row, p, out, offset)` writes the whole
   * normalised next-token distribution at p.
   */
  async #forward(
    seqs: readonly (readonly number[])[],
    targets: readonly (readonly number[])[] | null,
    take: (item: number, row: number, lp: BatchLogProbs) => void,
  ): Promise<void> {
    const V = this.facts.vocabSize;
    const groups = planBatches(seqs.map((s) => s.length), {
      maxItems: this.#options.batchSize,
      maxLogits: this.#options.maxLogits,
      vocab: V,
    });
    for (const group of groups) {
      const B = group.length;
      const S = Math.max(1, ...group.map((i) => seqs[i].length));
      const ids = new BigInt64Array(B * S).fill(BigInt(this.#pad));
      const targetIds = targets ? new BigInt64Array(B * S) : null;
      group.forEach((item, b) => {
        const s = seqs[item];
        for (let t = 0; t < s.length; t++) ids[b * S + t] = BigInt(s[t]);
        targets?.[item].forEach((tok, t) => targetIds![b * S + t] = BigInt(tok));
      });
      const lp = this.#scoreGraph
        ? await this.#runScoreGraph(ids, targetIds, B, S)
        : await this.#runMainGraph(ids, targetIds, group.map((i) => seqs[i].length), B, S);
      group.forEach((item, b) => take(item, b, lp));
    }
  }

  /** The score graph: log-probs come out normalised; only the output needed is fetched. */
  async #runScoreGraph(
    ids: BigInt64Array,
    targets: BigInt64Array | null,
    B: number,
    S: number,
  ): Promise<BatchLogProbs> {
    const V = this.facts.vocabSize;
    const feeds = {
      input_ids: new ort.Tensor("int64", ids, [B, S]),
      target_ids: new ort.Tensor("int64", targets ?? new BigInt64Array(B * S), [B, S]),
    };
    const name = targets ? "target_log_probs" : "log_probs";
    const data = (await this.#session.run(feeds, [name]))[name].data as Float32Array;
    return {
      target: (row, p) => data[row * S + p],
      rowInto: (row, p, out, offset) =>
        out.set(data.subarray((row * S + p) * V, (row * S + p + 1) * V), offset),
    };
  }

  /** The main graph (CUDA, older exports): logits with an empty cache, normalised here. */
  async #runMainGraph(
    ids: BigInt64Array,
    targets: BigInt64Array | null,
    lengths: number[],
    B: number,
    S: number,
  ): Promise<BatchLogProbs> {
    const V = this.facts.vocabSize;
    const mask = new BigInt64Array(B * S);
    const pos = new BigInt64Array(B * S);
    lengths.forEach((n, b) => {
      for (let t = 0; t < S; t++) {
        pos[b * S + t] = BigInt(t);
        if (t < n) mask[b * S + t] = 1n;
      }
    });
    const feeds = this.#contractFeeds(ids, mask, pos, B, S, null);
    const logits = (await this.#session.run(feeds, ["logits"])).logits.data as Float32Array;
    return {
      target: (row, p) => {
        const offset = (row * S + p) * V;
        return logits[offset + Number(targets![row * S + p])] - logSumExp(logits, offset, V);
      },
      rowInto: (row, p, out, offset) => logSoftmaxInto(logits, (row * S + p) * V, V, out, offset),
    };
  }

  async scoreContinuations(items: readonly ScoreItem[]): Promise<Float32Array[]> {
    checkScoreItems(items, this.facts);
    // Feed prompt + continuation minus its last token: the last logits row predicts past the end.
    // Position p's target is the token at p + 1.
    const seqs = items.map((it) => [...it.prompt, ...it.continuation.slice(0, -1)]);
    const targets = items.map((it) => [...it.prompt.slice(1), ...it.continuation]);
    const out = items.map((it) => new Float32Array(it.continuation.length));
    await this.#forward(seqs, targets, (item, row, lp) => {
      const first = items[item].prompt.length - 1;
      const dst = out[item];
      for (let k = 0; k < dst.length; k++) dst[k] = lp.target(row, first + k);
    });
    return out;
  }

  async nextTokenDistributions(items: readonly DistributionItem[]): Promise<Float32Array[]> {
    checkDistributionItems(items, this.facts);
    // Only the tokens up to the last wanted position influence the wanted rows (causality).
    const seqs = items.map((it) => it.tokens.slice(0, Math.max(0, ...it.positions) + 1));
    return await this.#distributions(seqs, items.map((it) => it.positions));
  }

  async continuationDistributions(items: readonly ScoreItem[]): Promise<Float32Array[]> {
    checkScoreItems(items, this.facts);
    const seqs = items.map((it) => [...it.prompt, ...it.continuation.slice(0, -1)]);
    return await this.#distributions(
      seqs,
      items.map((it) => it.continuation.map((_, t) => it.prompt.length - 1 + t)),
    );
  }

  async #distributions(
    seqs: number[][],
    wanted: readonly (readonly number[])[],
  ): Promise<Float32Array[]> {
    const V = this.facts.vocabSize;
    const out = wanted.map((w) => new Float32Array(w.length * V));
    await this.#forward(seqs, null, (item, row, lp) => {
      wanted[item].forEach((p, k) => lp.rowInto(row, p, out[item], k * V));
    });
    return out;
  }

  async sample(options: SampleOptions): Promise<Sample[]> {
    const req = resolveSample(options, this.facts);
    const rows: Row[] = [];
    req.prompts.forEach((p, i) => {
      for (let j = 0; j < req.n; j++) {
        rows.push({
          promptIndex: i,
          sampleIndex: j,
          context: [...p.tokens, ...p.forcedPrefix],
          banned: p.maskFirst,
          rng: Random.derive(req.seed, req.firstPromptIndex + i, j),
          tokens: [],
          logprobs: [],
          stopReason: "length",
          limit: Math.min(
            req.maxNewTokens,
            this.facts.maxPositions - p.tokens.length - p.forcedPrefix.length,
          ),
        });
      }
    });
    const stops = new Set(req.stopTokenIds);
    const eos = new Set(req.ignoreEos ? [] : this.facts.eosTokenIds);
    const stopStrings = new StopStrings(req.stopStrings, (ids) => this.#tokenizer.decode(ids));
    const size = this.#options.sampleBatchSize;
    for (let start = 0; start < rows.length; start += size) {
      await this.#decode(
        rows.slice(start, start + size),
        req,
        stops,
        eos,
        stopStrings,
        options.onProgress,
      );
    }
    return rows.map((r) => ({
      promptIndex: r.promptIndex,
      sampleIndex: r.sampleIndex,
      tokens: r.tokens,
      logprobs: r.logprobs,
      stopReason: r.stopReason,
    }));
  }

  /** Batched KV-cache decoding of `rows` (left padded; finished rows are dropped from the cache). */
  async #decode(
    rows: Row[],
    req: ReturnType<typeof resolveSample>,
    stops: Set<number>,
    eos: Set<number>,
    stopStrings: StopStrings,
    onProgress?: (done: number, total: number) => void,
  ): Promise<void> {
    const V = this.facts.vocabSize;
    const scratch = new SelectScratch(V);
    let active = rows.filter((r) => r.limit > 0);
    if (active.length === 0) return;
    // Prefill each prompt once: the samples of one prompt share its context, so their rows of the
    // cache (and their first logits) are copies of its one prefilled row.
    const B0 = active.length;
    const firsts: Row[] = [];
    const groupOf = active.map((r) => {
      const at = firsts.findIndex((f) => f.promptIndex === r.promptIndex);
      return at >= 0 ? at : firsts.push(r) - 1;
    });
    const P = firsts.length;
    // Left padding puts every prompt's newest token in the last column.
    const W = Math.max(...firsts.map((r) => r.context.length));
    const ids = new BigInt64Array(P * W).fill(BigInt(this.#pad));
    const mask = new BigInt64Array(P * W);
    const pos = new BigInt64Array(P * W);
    firsts.forEach((r, b) => {
      const off = W - r.context.length;
      r.context.forEach((t, k) => {
        ids[b * W + off + k] = BigInt(t);
        mask[b * W + off + k] = 1n;
        pos[b * W + off + k] = BigInt(k);
      });
    });
    const maxSteps = Math.max(...active.map((r) => r.limit));
    // The last sampled token is never fed, so the cache holds at most W + maxSteps - 1 slots.
    const limit = W + maxSteps - 1;
    const prefill = await this.#step(ids, mask, pos, P, W, null);
    let { last, kv } = prefill;
    const { slots, from } = prefill;
    if (P < B0) {
      last = repeatRows(last, groupOf, V);
      kv = kv.map((t) => repeatRows(t, groupOf, t.length / P));
    }
    const cache = new KvCache(
      kv.length,
      B0,
      this.facts.numKvHeads,
      this.facts.headDim,
      Math.min(limit, W + KV_CHUNK),
    );
    cache.append(kv, slots, from, W, P < B0 ? repeatRows(mask, groupOf, W) : mask);
    const nextIds = new BigInt64Array(B0);
    const nextPos = new BigInt64Array(B0);
    for (let step = 0; step < maxSteps; step++) {
      const keep: number[] = [];
      active.forEach((r, b) => {
        const offset = b * V;
        const u = r.rng.next();
        const tok = selectToken(
          last,
          offset,
          V,
          req.temperature,
          req.topP,
          step === 0 ? r.banned : [],
          u,
          scratch,
        );
        r.tokens.push(tok);
        r.logprobs.push(last[offset + tok] - logSumExp(last, offset, V));
        let done = false;
        if (stops.has(tok) || eos.has(tok)) {
          done = true;
          r.stopReason = eos.has(tok) && !stops.has(tok) ? "eos" : "stop_token";
        } else if (stopStrings.hit(r.tokens)) {
          done = true;
          r.stopReason = "stop_string";
        } else if (r.tokens.length >= r.limit) {
          done = true;
        }
        if (!done) keep.push(b);
      });
      onProgress?.(step + 1, maxSteps);
      if (keep.length === 0) break;
      // Drop finished rows from the cache so later steps compute only live sequences.
      if (keep.length < cache.rows) {
        cache.keep(keep);
        active = keep.map((b) => active[b]);
      }
      const B = cache.rows;
      active.forEach((r, b) => {
        nextIds[b] = BigInt(r.tokens[r.tokens.length - 1]);
        nextPos[b] = BigInt(r.context.length + r.tokens.length - 1);
      });
      cache.reserve(1, limit);
      let slots: number, from: number;
      ({ last, kv, slots, from } = await this.#step(
        nextIds.subarray(0, B),
        cache.maskView(),
        nextPos.subarray(0, B),
        B,
        1,
        cache,
      ));
      cache.append(kv, slots, from, 1, null);
    }
  }
}

/** Row `groupOf[b]` of `rows` (rows of `size` values) as row b, for every b. */
function repeatRows<T extends Float32Array | BigInt64Array>(
  rows: T,
  groupOf: readonly number[],
  size: number,
): T {
  const out = new (rows.constructor as { new (n: number): T })(groupOf.length * size);
  groupOf.forEach((g, b) => out.set(rows.subarray(g * size, (g + 1) * size) as never, b * size));
  return out;
}

/** Log-probs of one forward batch, read by row of the batch and position. */
interface BatchLogProbs {
  target(row: number, position: number): number;
  rowInto(row: number, position: number, out: Float32Array, offset: number): void;
}

/** Throws a ModelFileError naming `path` when it does not exist, with what to do about it. */
async function mustExist(path: string, remedy: string): Promise<void> {
  try {
    await Deno.stat(path);
  } catch (e) {
    throw new ModelFileError(`Cannot load ${path}: ${(e as Error).message}; ${remedy}`, path, {
      cause: e,
    });
  }
}

interface Row {
  promptIndex: number;
  sampleIndex: number;
  context: number[];
  banned: number[];
  rng: Random;
  tokens: number[];
  logprobs: number[];
  stopReason: StopReason;
  limit: number;
}
