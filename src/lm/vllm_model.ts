/**
 * The `vllm` backend: the kit's LanguageModel over one or more vLLM OpenAI-compatible completion
 * servers, either given as URLs or started by the kit on the model directory (lazily, on the first
 * call that needs one, so a model opened only for its distributions never starts a server).
 *
 * What it sends and why:
 *  - prompts as token ids (prompt + forced prefix), so a forced prefix is kept to the token, and
 *    `return_token_ids`, so samples come back as ids, never re-tokenised text;
 *  - every sampling setting explicitly (temperature, top_p, top_k 0, min_p 0, no penalties), so a
 *    server's generation_config defaults cannot change a run;
 *  - seeds spaced by `n`: vLLM draws sample i of an `n`-sample request with seed + i, so prompt p
 *    gets seed base + (firstPromptIndex + p) * n and no two samples of a request share a stream, nor
 *    two pieces of one split with firstPromptIndex; a rerun gives the same
 *    tokens on the same server build (not the `ort`/`torch` tokens: those use the kit's streams);
 *  - a first-token mask ("without critical token") as two requests: one token with `logit_bias`
 *    -100 on the banned ids, then the continuation of each drawn token with no bias, both at the
 *    caller's temperature; a bias on the whole request would ban the token at every position.
 *
 * Scoring uses `prompt_logprobs` (the raw model distribution, float32 on CPU). Full next-token
 * distributions are not served (a server returns at most 20 log-probs per position): they go to
 * the `distributions` delegate (the pipeline gives the torch backend on the same directory), or
 * fail with one line saying so.
 *
 * @module
 */
import { resolve } from "node:path";
import { hashSeed } from "../random.ts";
import { LmInputError } from "./errors.ts";
import { readModelFacts } from "./model_facts.ts";
import { StopStrings } from "./stop.ts";
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
import { checkScoreItems, resolveSample } from "./validate.ts";
import { VllmClient, type VllmClientOptions, VllmServerError } from "./vllm_client.ts";
import { VllmServer, type VllmServerOptions } from "./vllm_server.ts";

/** Options of {@linkcode VllmLanguageModel.open}. */
export interface VllmModelOptions extends VllmClientOptions {
  /** Running servers that serve this model directory; empty or absent: the kit starts one. */
  urls?: readonly string[];
  /** The model name the URLs serve it under. @default {the absolute model directory path} */
  servedModelName?: string | null;
  /** Settings of the server the kit starts (model directory excluded). */
  server?: Omit<VllmServerOptions, "modelDir">;
  /** Serves nextTokenDistributions / continuationDistributions (loaded on first use). */
  distributions?: () => Promise<LanguageModel>;
}

/** Text whose tokenisation must be the same on the server and in the kit (digits, spaces, newlines, non-ASCII). */
const PROBE = "Natalia sold 48 clips in April, and then she sold half as many clips in May.\n" +
  "  48 / 2 = 24; 48 + 24 = 72. The answer is 72.\u00a0Caf\u00e9 \u00f7 \u221a2 \u2192 \u4e2d";

/** Seeds of one call live in [base, base + SEED_SPAN): base is a multiple of the span. */
const SEED_SPAN = 2 ** 21;

interface Completion {
  tokens: number[];
  logprobs: number[];
}

/** A LanguageModel served by vLLM. */
export class VllmLanguageModel implements LanguageModel {
  readonly backend = "vllm" as const;
  readonly dir: string;
  readonly #tokenizer: TextTokenizer;
  readonly #options: VllmModelOptions;
  #facts: ModelFacts;
  #client: VllmClient | null = null;
  #server: VllmServer | null = null;
  #starting: Promise<VllmClient> | null = null;
  #delegate: Promise<LanguageModel> | null = null;
  #name: string;
  #closed = false;

  private constructor(
    dir: string,
    facts: ModelFacts,
    tokenizer: TextTokenizer,
    options: VllmModelOptions,
  ) {
    this.dir = dir;
    this.#facts = facts;
    this.#tokenizer = tokenizer;
    this.#options = options;
    this.#name = options.servedModelName ?? dir;
  }

  /**
   * Opens `dir` (its config and tokenizer are read here). Given URLs are checked now (each must
   * serve this model with this tokenizer); a managed server starts on the first call needing it.
   */
  static async open(dir: string, options: VllmModelOptions = {}): Promise<VllmLanguageModel> {
    const abs = resolve(dir);
    const facts = await readModelFacts(abs);
    const tokenizer = await TextTokenizer.load(abs);
    const lm = new VllmLanguageModel(abs, facts, tokenizer, options);
    if (options.urls && options.urls.length > 0) await lm.#connect();
    return lm;
  }

  get facts(): ModelFacts {
    return this.#facts;
  }

  /** The servers' base URLs (empty until connected). */
  get urls(): readonly string[] {
    return this.#client?.urls ?? [];
  }

  /** The server this model started, if any. */
  get server(): VllmServer | null {
    return this.#server;
  }

  tokenize(text: string): number[] {
    return this.#tokenizer.encode(text);
  }

  detokenize(ids: readonly number[]): string {
    return this.#tokenizer.decode(ids);
  }

  async close(): Promise<void> {
    this.#closed = true;
    await this.#starting?.catch(() => {});
    const server = this.#server;
    this.#server = null;
    this.#client = null;
    await server?.stop();
    const delegate = this.#delegate;
    this.#delegate = null;
    if (delegate) await (await delegate).close();
  }

  /** The connected client: the given URLs, or a server started on this directory now. */
  #connect(): Promise<VllmClient> {
    if (this.#closed) {
      return Promise.reject(new Error(`Cannot use ${this.dir}: the model is closed`));
    }
    if (this.#client) return Promise.resolve(this.#client);
    this.#starting ??= (async () => {
      let urls = this.#options.urls ?? [];
      if (urls.length === 0) {
        this.#server = await VllmServer.start({ ...this.#options.server, modelDir: this.dir });
        urls = [this.#server.url];
        this.#name = this.dir;
      }
      const client = new VllmClient(urls, this.#options);
      try {
        for (const url of client.urls) await this.#checkServer(client, url);
      } catch (e) {
        await this.#server?.stop();
        this.#server = null;
        throw e;
      }
      this.#client = client;
      return client;
    })();
    this.#starting.catch(() => this.#starting = null);
    return this.#starting;
  }

  /** Refuses a server that serves another model or tokenises differently; learns its context. */
  async #checkServer(client: VllmClient, url: string): Promise<void> {
    const models = await client.getFrom(url, "/v1/models") as {
      data?: { id: string; root?: string; max_model_len?: number }[];
    };
    const served = models.data ?? [];
    const mine = served.find((m) => m.id === this.#name);
    if (!mine) {
      throw new VllmServerError(
        `Cannot use vLLM server ${url}: it serves ${
          served.map((m) => `'${m.id}'`).join(", ") || "no model"
        }, not '${this.#name}' (${this.dir}); serve that directory there, or set policy.vllm.servedModelName`,
        url,
        null,
      );
    }
    const mine_ids = this.#tokenizer.encode(PROBE);
    const tok = await client.postTo(url, "/tokenize", {
      model: this.#name,
      prompt: PROBE,
      add_special_tokens: false,
    }) as { tokens: number[] };
    const k = firstDifference(tok.tokens, mine_ids);
    if (k !== null) {
      throw new VllmServerError(
        `Cannot use vLLM server ${url}: its tokenizer encodes the probe text differently from ` +
          `${this.dir}/tokenizer.json (token ${k}: server ${tok.tokens[k] ?? "none"}, kit ${
            mine_ids[k] ?? "none"
          }); serve the same model directory`,
        url,
        null,
      );
    }
    const text = await client.postTo(url, "/detokenize", {
      model: this.#name,
      tokens: mine_ids,
    }) as {
      prompt: string;
    };
    if (text.prompt !== this.#tokenizer.decode(mine_ids)) {
      throw new VllmServerError(
        `Cannot use vLLM server ${url}: its tokenizer decodes the probe ids to ${
          JSON.stringify(text.prompt.slice(0, 60))
        }, the kit's ${this.dir}/tokenizer.json to ${
          JSON.stringify(this.#tokenizer.decode(mine_ids).slice(0, 60))
        }; serve the same model directory`,
        url,
        null,
      );
    }
    if (mine.max_model_len && mine.max_model_len < this.#facts.maxPositions) {
      this.#facts = { ...this.#facts, maxPositions: mine.max_model_len };
    }
  }

  async #complete(body: Record<string, unknown>): Promise<Record<string, unknown>> {
    const client = await this.#connect();
    return await client.post("/v1/completions", { model: this.#name, ...body }) as Record<
      string,
      unknown
    >;
  }

  async scoreContinuations(items: readonly ScoreItem[]): Promise<Float32Array[]> {
    await this.#connect();
    checkScoreItems(items, this.facts);
    const out: Float32Array[] = new Array(items.length);
    await forEachBounded(items.map((_, i) => i), this.#client!.capacity, async (i) => {
      const { prompt, continuation } = items[i];
      if (continuation.length === 0) {
        out[i] = new Float32Array(0);
        return;
      }
      const r = await this.#complete({
        prompt: [...prompt, ...continuation],
        max_tokens: 1,
        temperature: 0,
        prompt_logprobs: 0,
      });
      const rows = ((r.choices as Record<string, unknown>[])[0].prompt_logprobs ??
        r.prompt_logprobs) as (Record<string, { logprob: number }> | null)[];
      out[i] = Float32Array.from(continuation, (tok, t) => {
        const cell = rows[prompt.length + t]?.[String(tok)];
        if (!cell) {
          throw new VllmServerError(
            `Cannot score item ${i} on ${
              this.urls.join(", ")
            }: the server returned no log-prob for token ${t}`,
            this.urls[0],
            null,
          );
        }
        return cell.logprob;
      });
    });
    return out;
  }

  async nextTokenDistributions(items: readonly DistributionItem[]): Promise<Float32Array[]> {
    return await (await this.#distributions()).nextTokenDistributions(items);
  }

  async continuationDistributions(items: readonly ScoreItem[]): Promise<Float32Array[]> {
    return await (await this.#distributions()).continuationDistributions(items);
  }

  /** The model that serves this one's full distributions (the torch backend), or null. */
  torchModel(): Promise<LanguageModel | null> {
    return this.#options.distributions ? this.#distributions() : Promise.resolve(null);
  }

  /** Contrastive scores through the distributions' model (formed in the trainer), else null. */
  async contrastiveScores(
    neg: LanguageModel,
    items: readonly ScoreItem[],
    betas: readonly number[],
  ): Promise<ContrastiveScore[] | null> {
    const mine = await this.torchModel();
    return (await mine?.contrastiveScores?.(neg, items, betas)) ?? null;
  }

  #distributions(): Promise<LanguageModel> {
    const make = this.#options.distributions;
    if (!make) {
      return Promise.reject(
        new LmInputError(
          "Cannot compute full next-token distributions on the vllm backend: a server returns at " +
            "most 20 log-probs per position; open the model with the torch or ort backend for them",
        ),
      );
    }
    this.#delegate ??= make();
    return this.#delegate;
  }

  async sample(options: SampleOptions): Promise<Sample[]> {
    const client = await this.#connect();
    const req = resolveSample(options, this.facts);
    const total = req.prompts.length * req.n;
    // A piece of a longer request continues its streams: prompt p draws as prompt
    // firstPromptIndex + p of the whole would.
    if ((req.firstPromptIndex + req.prompts.length) * req.n > SEED_SPAN) {
      throw new LmInputError(
        `Cannot sample ${total} sequences in one call on the vllm backend: at most ${SEED_SPAN} ` +
          "(prompts x n) get distinct seeds; split the call",
      );
    }
    const stops = new StopStrings(req.stopStrings, (ids) => this.#tokenizer.decode(ids));
    const eos = new Set(req.ignoreEos ? [] : this.facts.eosTokenIds);
    const stopIds = new Set(req.stopTokenIds);
    const base = (label: string) => (hashSeed(req.seed, "vllm", label) >>> 1) * SEED_SPAN;
    const [seedAll, seedFirst, seedRest] = [base("sample"), base("first"), base("rest")];
    const common = {
      top_p: req.topP,
      top_k: 0,
      min_p: 0,
      repetition_penalty: 1,
      presence_penalty: 0,
      frequency_penalty: 0,
      stop: req.stopStrings.length > 0 ? req.stopStrings : undefined,
      include_stop_str_in_output: true,
      stop_token_ids: req.stopTokenIds,
      ignore_eos: req.ignoreEos,
      logprobs: 0,
      return_token_ids: true,
      skip_special_tokens: false,
    };
    const complete = async (
      prompt: number[],
      n: number,
      maxTokens: number,
      seed: number,
      extra = {},
    ) => {
      // Greedy: vLLM refuses n > 1 at temperature 0, and all n samples would be the same anyway.
      const draws = req.temperature === 0 ? 1 : n;
      const r = await this.#complete({
        ...common,
        prompt,
        n: draws,
        max_tokens: maxTokens,
        temperature: req.temperature,
        seed,
        ...extra,
      });
      const choices = (r.choices as Record<string, unknown>[]).slice().sort((a, b) =>
        (a.index as number) - (b.index as number)
      );
      const got = choices.map((c): Completion => ({
        tokens: c.token_ids as number[],
        logprobs: ((c.logprobs as { token_logprobs: number[] } | null)?.token_logprobs ?? [])
          .map(Number),
      }));
      return Array.from({ length: n }, (_, j) => got[req.temperature === 0 ? 0 : j]);
    };
    const samples: Sample[] = new Array(total);
    let done = 0;
    await forEachBounded(req.prompts.map((_, p) => p), client.capacity, async (p) => {
      const { tokens, forcedPrefix, maskFirst } = req.prompts[p];
      const context = [...tokens, ...forcedPrefix];
      const limit = Math.min(req.maxNewTokens, this.facts.maxPositions - context.length);
      let outs: Completion[];
      if (limit <= 0) {
        outs = Array.from({ length: req.n }, () => ({ tokens: [], logprobs: [] }));
      } else if (maskFirst.length === 0) {
        outs = await complete(context, req.n, limit, seedAll + (req.firstPromptIndex + p) * req.n);
      } else {
        const bias = Object.fromEntries(maskFirst.map((id) => [String(id), -100]));
        const firsts = await complete(
          context,
          req.n,
          1,
          seedFirst + (req.firstPromptIndex + p) * req.n,
          {
            logit_bias: bias,
          },
        );
        outs = await Promise.all(firsts.map(async (first, j) => {
          const tok = first.tokens[0];
          if (limit === 1 || eos.has(tok) || stopIds.has(tok) || stops.hit(first.tokens)) {
            return first;
          }
          const [rest] = await complete(
            [...context, tok],
            1,
            limit - 1,
            seedRest + (req.firstPromptIndex + p) * req.n + j,
          );
          return { tokens: [tok, ...rest.tokens], logprobs: [...first.logprobs, ...rest.logprobs] };
        }));
      }
      outs.forEach((o, j) => {
        samples[p * req.n + j] = finish(p, j, o, eos, stopIds, stops);
      });
      done += req.n;
      options.onProgress?.(done, total);
    });
    return samples;
  }
}

/**
 * A sample in the kit's terms. The kit's own rule decides the stop reason, and a stop string is
 * looked for in the kit's way (the decoded new tokens) so a sample ends where it would end on
 * the other backends' rule.
 */
function finish(
  p: number,
  j: number,
  o: Completion,
  eos: ReadonlySet<number>,
  stopIds: ReadonlySet<number>,
  stops: StopStrings,
): Sample {
  let end = o.tokens.length;
  let reason: StopReason = "length";
  for (let k = 0; k < o.tokens.length; k++) {
    const tok = o.tokens[k];
    if (stopIds.has(tok)) reason = "stop_token";
    else if (eos.has(tok)) reason = "eos";
    else if (stops.hit(o.tokens.slice(0, k + 1))) reason = "stop_string";
    else continue;
    end = k + 1;
    break;
  }
  return {
    promptIndex: p,
    sampleIndex: j,
    tokens: o.tokens.slice(0, end),
    logprobs: o.logprobs.slice(0, end),
    stopReason: reason,
  };
}

function firstDifference(a: readonly number[], b: readonly number[]): number | null {
  for (let k = 0; k < Math.max(a.length, b.length); k++) if (a[k] !== b[k]) return k;
  return null;
}

/**
 * Runs `fn` over `items` with at most `limit` calls pending: the next item starts only when one
 * finishes, so a long list never becomes a long list of pending requests. The first failure
 * stops new starts and is thrown once the pending calls have settled.
 */
export async function forEachBounded<T>(
  items: Iterable<T>,
  limit: number,
  fn: (item: T) => Promise<void>,
): Promise<void> {
  const pending = new Set<Promise<void>>();
  let failure: { error: unknown } | null = null;
  for (const item of items) {
    if (failure) break;
    const run = fn(item).catch((error) => {
      failure ??= { error };
    }).finally(() => pending.delete(run));
    pending.add(run);
    if (pending.size >= limit) await Promise.race(pending);
  }
  await Promise.all(pending);
  if (failure) throw (failure as { error: unknown }).error;
}
