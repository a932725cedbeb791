/**
 * HTTP client of one or more OpenAI-compatible vLLM servers: data parallelism across the list
 * (each request goes to the server with the fewest requests in flight), a bounded number of
 * requests in flight per server (callers wait for a free slot: backpressure, so a stage of a
 * million requests holds only `concurrency` of them in memory), and retries with exponential
 * backoff on transient failures (refused or reset connections, 429, 500, 502, 503, 504). A server
 * that stays unreachable ends the call with one {@linkcode VllmServerError} line naming it.
 *
 * @module
 */

/** Options of {@linkcode VllmClient}. */
export interface VllmClientOptions {
  /** Requests in flight per server. @default {32} */
  concurrency?: number;
  /** Tries per request before a server counts as down (the first try included). @default {6} */
  attempts?: number;
  /** Backoff before the second try; doubled after each failure up to `maxBackoffMs`. @default {500} */
  backoffMs?: number;
  /** @default {8000} */
  maxBackoffMs?: number;
}

/** A server that cannot serve: down for good, or answering a request with an error. */
export class VllmServerError extends Error {
  constructor(
    message: string,
    /** The server's base URL. */
    readonly url: string,
    /** HTTP status of the last answer, or null when no answer came (connection failed). */
    readonly status: number | null,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = "VllmServerError";
  }
}

/** HTTP statuses worth retrying: overload (429, 503), a proxy in front (502, 504), and 500. */
const TRANSIENT = new Set([429, 500, 502, 503, 504]);

interface Endpoint {
  url: string;
  inFlight: number;
}

/** A pool of servers with bounded concurrency and retries. */
export class VllmClient {
  readonly urls: readonly string[];
  readonly concurrency: number;
  readonly #endpoints: Endpoint[];
  readonly #waiters: (() => void)[] = [];
  readonly #attempts: number;
  readonly #backoffMs: number;
  readonly #maxBackoffMs: number;

  constructor(urls: readonly string[], options: VllmClientOptions = {}) {
    if (urls.length === 0) throw new RangeError("Cannot make a vLLM client: no server URL given");
    this.urls = urls.map(normaliseUrl);
    this.concurrency = options.concurrency ?? 32;
    if (!Number.isInteger(this.concurrency) || this.concurrency < 1) {
      throw new RangeError(
        `Cannot make a vLLM client: concurrency is ${this.concurrency}, expected an integer >= 1`,
      );
    }
    this.#endpoints = this.urls.map((url) => ({ url, inFlight: 0 }));
    this.#attempts = options.attempts ?? 6;
    this.#backoffMs = options.backoffMs ?? 500;
    this.#maxBackoffMs = options.maxBackoffMs ?? 8000;
  }

  /** Requests that may be in flight at once over all servers. */
  get capacity(): number {
    return this.concurrency * this.#endpoints.length;
  }

  /** GET `path` from one given server (start-up checks), with the same retries. */
  async getFrom(url: string, path: string): Promise<unknown> {
    return await this.#withRetries(url, () => fetch(`${url}${path}`));
  }

  /** POST a JSON body to `path` on one given server (start-up checks), with retries. */
  async postTo(url: string, path: string, body: unknown): Promise<unknown> {
    return await this.#withRetries(url, () => postJson(`${url}${path}`, body));
  }

  /**
   * POST a JSON body to `path` on the least busy server, once a slot is free. A retry may go to
   * another server: every server of a client serves the same model (checked on start-up), and a
   * seeded request gives the same tokens on any of them.
   */
  async post(path: string, body: unknown, signal?: AbortSignal): Promise<unknown> {
    const endpoint = await this.#acquire(signal);
    try {
      return await this.#withRetries(
        endpoint.url,
        (url) => postJson(`${url}${path}`, body, signal),
        () => this.#retarget(endpoint),
      );
    } finally {
      this.#release(endpoint);
    }
  }

  /** Waits for a slot; the least loaded server wins, ties by list order. */
  async #acquire(signal?: AbortSignal): Promise<Endpoint> {
    for (;;) {
      signal?.throwIfAborted();
      let best: Endpoint | null = null;
      for (const e of this.#endpoints) {
        if (e.inFlight < this.concurrency && (best === null || e.inFlight < best.inFlight)) {
          best = e;
        }
      }
      if (best) {
        best.inFlight++;
        return best;
      }
      await new Promise<void>((resolve) => this.#waiters.push(resolve));
    }
  }

  #release(endpoint: Endpoint): void {
    endpoint.inFlight--;
    this.#waiters.shift()?.();
  }

  /** On a retry, the URL to try next: the least loaded other server, else the same one. */
  #retarget(current: Endpoint): string {
    let best = current;
    for (const e of this.#endpoints) if (e !== current && e.inFlight < best.inFlight) best = e;
    return best.url;
  }

  async #withRetries(
    firstUrl: string,
    send: (url: string) => Promise<Response>,
    nextUrl?: () => string,
  ): Promise<unknown> {
    const started = performance.now();
    let url = firstUrl;
    let wait = this.#backoffMs;
    let last = "";
    let lastStatus: number | null = null;
    for (let attempt = 1; attempt <= this.#attempts; attempt++) {
      let response: Response;
      try {
        response = await send(url);
      } catch (e) {
        if ((e as Error).name === "AbortError") throw e;
        last = connectionCause(e as Error);
        lastStatus = null;
        response = null as unknown as Response;
      }
      if (response) {
        if (response.ok) return await response.json();
        const text = await response.text();
        lastStatus = response.status;
        last = `HTTP ${response.status}: ${serverMessage(text)}`;
        if (!TRANSIENT.has(response.status)) {
          throw new VllmServerError(
            `Cannot use vLLM server ${url}: it refused the request (${last})`,
            url,
            response.status,
          );
        }
      }
      if (attempt === this.#attempts) break;
      await new Promise((r) => setTimeout(r, wait));
      wait = Math.min(this.#maxBackoffMs, 2 * wait);
      if (nextUrl) url = nextUrl();
    }
    const seconds = ((performance.now() - started) / 1000).toFixed(0);
    throw new VllmServerError(
      `Cannot reach vLLM server ${url}: ${last} (${this.#attempts} tries over ${seconds} s); ` +
        "it is down or overloaded: restart it and rerun (finished chunks are kept)",
      url,
      lastStatus,
    );
  }
}

function postJson(url: string, body: unknown, signal?: AbortSignal): Promise<Response> {
  return fetch(url, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify(body),
    signal,
  });
}

/** `http://host:port` without a trailing slash or `/v1`. */
export function normaliseUrl(url: string): string {
  let u = url.trim().replace(/\/+$/, "");
  if (u.endsWith("/v1")) u = u.slice(0, -3);
  if (!/^https?:\/\/[^/]+$/.test(u)) {
    throw new RangeError(
      `Cannot use vLLM server URL ${JSON.stringify(url)}: expected http://host:port`,
    );
  }
  return u;
}

/** The short reason of a failed connection ("connection refused"), from Deno's chain of causes. */
function connectionCause(e: Error): string {
  const chain: string[] = [];
  for (let c: unknown = e; c instanceof Error && chain.length < 6; c = c.cause) {
    chain.push(c.message);
  }
  const m = /Connection refused|Connection reset|connection closed|timed out|dns error/i.exec(
    chain.join(" | "),
  );
  return m ? m[0].toLowerCase() : chain.join(": ").split("\n")[0];
}

/** vLLM answers errors as {"error": {"message"}} or {"message"}; else the body's first line. */
function serverMessage(text: string): string {
  try {
    const body = JSON.parse(text) as { error?: { message?: string }; message?: string };
    const m = body.error?.message ?? body.message;
    if (typeof m === "string") return m.split("\n")[0].slice(0, 300);
  } catch {
    // Not JSON: fall through.
  }
  return text.split("\n")[0].slice(0, 300);
}
