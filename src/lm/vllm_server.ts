/**
 * A vLLM OpenAI-compatible server the kit starts itself on a model directory, waits for, and
 * stops: at the end, on every failure, and when this process exits, leaving no process behind.
 *
 * The server runs under `trainer/cdpo_trainer/serve/vllm_supervisor.py`, which puts it in a
 * process group of its own and kills that group when its stdin closes (our `stop()`, or this
 * process dying), on SIGTERM, or when the server exits by itself. The server binds to 127.0.0.1.
 *
 * @example
 * ```ts ignore
 * import { VllmServer } from "./vllm_server.ts";
 * const server = await VllmServer.start({ modelDir: "models/policy" });
 * console.log(server.url); // http://127.0.0.1:<port>
 * await server.stop();
 * ```
 * @module
 */
import { join } from "node:path";
import { kitPaths } from "../paths.ts";
import { vllmPython } from "../setup/vllm_env.ts";

/** Options of {@linkcode VllmServer.start}. */
export interface VllmServerOptions {
  /** The Hugging Face directory to serve (a LoRA-trained model must already be merged). */
  modelDir: string;
  /** Interpreter of the vLLM environment. @default {`CDPO_VLLM_PYTHON` or .cache/vllm/venv} */
  python?: string;
  /** @default {a free port} */
  port?: number;
  /** `--max-model-len`: context the server reserves cache for. @default {the model's own} */
  maxModelLen?: number | null;
  /** `--dtype`. @default {"auto" on a GPU build; the CPU build needs "float32" or "bfloat16"} */
  dtype?: string;
  /** More server arguments, e.g. `["--tensor-parallel-size", "8"]`. */
  args?: readonly string[];
  /** More environment, e.g. `{ VLLM_CPU_KVCACHE_SPACE: "2" }` (GiB of KV cache on CPU). */
  env?: Record<string, string>;
  /** Seconds to wait for /health. @default {900} */
  startTimeoutS?: number;
  /** Where the server's output goes. @default {a temp file, removed by a clean stop} */
  logPath?: string;
}

/** The server did not come up, or died. */
export class VllmStartError extends Error {
  constructor(
    message: string,
    readonly logPath: string,
    /** The server's process group when it got that far (all of it is stopped before the throw). */
    readonly pgid: number | null = null,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = "VllmStartError";
  }
}

const live = new Set<VllmServer>();
// A kit process that ends normally takes its servers with it (a crash closes the supervisor's
// stdin, which does the same).
globalThis.addEventListener("unload", () => {
  for (const s of live) s.kill();
});

/** A running server started by the kit. */
export class VllmServer {
  readonly url: string;
  readonly port: number;
  readonly modelDir: string;
  readonly logPath: string;
  /** Process group of the server (the supervisor kills it; kept for a last-resort kill). */
  readonly pgid: number;
  readonly #child: Deno.ChildProcess;
  readonly #stdin: WritableStreamDefaultWriter<Uint8Array>;
  readonly #ownsLog: boolean;
  #exitCode: number | null = null;
  readonly #exited: Promise<void>;

  private constructor(
    child: Deno.ChildProcess,
    stdin: WritableStreamDefaultWriter<Uint8Array>,
    port: number,
    modelDir: string,
    logPath: string,
    ownsLog: boolean,
    pgid: number,
  ) {
    this.#child = child;
    this.#stdin = stdin;
    this.port = port;
    this.url = `http://127.0.0.1:${port}`;
    this.modelDir = modelDir;
    this.logPath = logPath;
    this.#ownsLog = ownsLog;
    this.pgid = pgid;
    this.#exited = child.status.then((s) => {
      this.#exitCode = s.code;
      live.delete(this);
    });
  }

  /** The supervisor's process id. */
  get pid(): number {
    return this.#child.pid;
  }

  /** Exit code of the supervisor once it has ended, else null. */
  get exitCode(): number | null {
    return this.#exitCode;
  }

  /** Starts a server on `options.modelDir` and resolves once it answers /health. */
  static async start(options: VllmServerOptions): Promise<VllmServer> {
    const python = options.python ?? vllmPython();
    const port = options.port ?? freePort();
    const ownsLog = options.logPath === undefined;
    const logPath = options.logPath ??
      await Deno.makeTempFile({ prefix: "cdpo-vllm-", suffix: ".log" });
    const args = [
      join(kitPaths.trainer, "cdpo_trainer", "serve", "vllm_supervisor.py"),
      "--log",
      logPath,
      "--",
      ...serverArgs(options, port),
    ];
    let child: Deno.ChildProcess;
    try {
      child = new Deno.Command(python, {
        args,
        env: { PYTHONUNBUFFERED: "1", ...options.env },
        stdin: "piped",
        stdout: "piped",
        stderr: "inherit",
      }).spawn();
    } catch (e) {
      throw new VllmStartError(
        `Cannot start a vLLM server: ${python}: ${(e as Error).message} ` +
          "(run `deno task setup --vllm`, or point CDPO_VLLM_PYTHON at a Python with vLLM)",
        logPath,
        null,
        { cause: e },
      );
    }
    const stdin = child.stdin.getWriter();
    const pgid = await readPgid(child.stdout);
    const server = new VllmServer(child, stdin, port, options.modelDir, logPath, ownsLog, pgid);
    live.add(server);
    try {
      await server.#waitHealthy((options.startTimeoutS ?? 900) * 1000);
    } catch (e) {
      await server.stop({ keepLog: true });
      throw e;
    }
    return server;
  }

  async #waitHealthy(timeoutMs: number): Promise<void> {
    const deadline = performance.now() + timeoutMs;
    while (performance.now() < deadline) {
      if (this.#exitCode !== null) {
        throw new VllmStartError(
          `Cannot start a vLLM server on ${this.modelDir}: it exited with code ${this.#exitCode} ` +
            `during start-up: ${await lastError(this.logPath)} (log: ${this.logPath})`,
          this.logPath,
          this.pgid,
        );
      }
      try {
        const r = await fetch(`${this.url}/health`, { signal: AbortSignal.timeout(5000) });
        await r.body?.cancel();
        if (r.ok) return;
      } catch {
        // Not listening yet.
      }
      await Promise.race([new Promise((r) => setTimeout(r, 1000)), this.#exited]);
    }
    throw new VllmStartError(
      `Cannot start a vLLM server on ${this.modelDir}: no answer on ${this.url}/health after ` +
        `${
          (timeoutMs / 1000).toFixed(0)
        } s (log: ${this.logPath}); raise policy.vllm.startTimeoutS`,
      this.logPath,
      this.pgid,
    );
  }

  /** Stops the server and waits until its whole process group is gone. */
  async stop(options: { keepLog?: boolean } = {}): Promise<void> {
    if (this.#exitCode === null) {
      // Closing stdin is the supervisor's signal to take the server's group down.
      await this.#stdin.close().catch(() => {});
      const timer = setTimeout(() => this.kill(), 30_000);
      await this.#exited;
      clearTimeout(timer);
    }
    await this.#child.stdout.cancel().catch(() => {});
    killGroup(this.pgid, "SIGKILL"); // Normally already gone; never leave a straggler.
    if (this.#ownsLog && !options.keepLog) await Deno.remove(this.logPath).catch(() => {});
  }

  /** Synchronous last resort (process exit): SIGKILL to the server's group and the supervisor. */
  kill(): void {
    killGroup(this.pgid, "SIGKILL");
    try {
      this.#child.kill("SIGKILL");
    } catch {
      // Already gone.
    }
  }
}

/** The server's command line (after the supervisor's `--`). */
export function serverArgs(options: VllmServerOptions, port: number): string[] {
  const args = [
    "--model",
    options.modelDir,
    "--host",
    "127.0.0.1",
    "--port",
    String(port),
    // A seeded request whose prompt is split across steps crashes the CPU build's engine with
    // chunked prefill on; off, every prompt is prefilled in one step.
    "--no-enable-chunked-prefill",
    // Sampling settings come from each request only, never from the model's generation_config.
    "--generation-config",
    "vllm",
  ];
  if (options.maxModelLen) args.push("--max-model-len", String(options.maxModelLen));
  if (options.dtype) args.push("--dtype", options.dtype);
  return [...args, ...(options.args ?? [])];
}

/** A port nobody listens on now (the server binds it a moment later). */
function freePort(): number {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (listener.addr as Deno.NetAddr).port;
  listener.close();
  return port;
}

async function readPgid(stdout: ReadableStream<Uint8Array>): Promise<number> {
  const reader = stdout.getReader();
  let text = "";
  try {
    while (!text.includes("\n")) {
      const { value, done } = await reader.read();
      if (done) break;
      text += new TextDecoder().decode(value);
    }
  } finally {
    reader.releaseLock();
  }
  const pgid = (JSON.parse(text.split("\n")[0] || "{}") as { pgid?: number }).pgid;
  if (!Number.isInteger(pgid)) {
    throw new VllmStartError(
      `Cannot start a vLLM server: its supervisor printed ${JSON.stringify(text)}`,
      "",
    );
  }
  return pgid!;
}

function killGroup(pgid: number, signal: Deno.Signal): void {
  try {
    Deno.kill(-pgid, signal);
  } catch {
    // No such group: already gone.
  }
}

/** The last line of the log that looks like an error, else its last line. */
export async function lastError(logPath: string): Promise<string> {
  let lines: string[] = [];
  try {
    lines = (await Deno.readTextFile(logPath)).split("\n").map((l) => l.trim()).filter(Boolean);
  } catch {
    return "no log";
  }
  const err = lines.findLast((l) => /Error|error:|Exception/.test(l));
  return (err ?? lines.at(-1) ?? "empty log").slice(0, 400);
}
