/**
 * The TypeScript client of the Python trainer: one long-lived `python -m cdpo_trainer` process,
 * requests served one at a time, events streamed to a callback, every failure a
 * {@linkcode TrainerError}.
 *
 * @example
 * ```ts ignore
 * import { Trainer } from "./client.ts";
 * const trainer = await Trainer.start();
 * const hello = await trainer.request("hello", {});
 * await trainer.close();
 * ```
 * @module
 */
import { kitPaths, trainerPython } from "../paths.ts";
import { TrainerError } from "./errors.ts";
import { checkAccelerateConfig } from "./accelerate.ts";
import {
  encodeRequest,
  MalformedMessageError,
  type Message,
  parseMessage,
  type TrainerEvent,
} from "./protocol.ts";

/** Options of {@linkcode Trainer.start}. */
export interface TrainerStartOptions {
  /** Interpreter to run. @default {`CDPO_PYTHON` or the kit's venv} */
  python?: string;
  /** Extra environment variables for the process. */
  env?: Record<string, string>;
  /** How many bytes of stderr to keep for error reports. @default {16384} */
  stderrTailBytes?: number;
  /** Echo the trainer's stderr to this process's stderr as it arrives. @default {false} */
  echoStderr?: boolean;
  /** Also serve the test-only ops (sleep, crash); for the client's own tests. @default {false} */
  testOps?: boolean;
  /**
   * Start the trainer's ranks from this accelerate config (trainer/accelerate/*.yaml): rank 0
   * speaks the protocol, training and scoring run on every rank. Checked first: a config this
   * machine cannot run is one line. @default {one process}
   */
  accelerateConfig?: string;
}

/** Options of one {@linkcode Trainer.request}. */
export interface RequestOptions {
  /** Called for every progress, metric, checkpoint or log event of this request. */
  onEvent?: (event: TrainerEvent) => void;
  /** Aborting ends the trainer process and rejects with a `cancelled` TrainerError. */
  signal?: AbortSignal;
}

interface Pending {
  id: number;
  op: string;
  onEvent?: (event: TrainerEvent) => void;
  resolve: (value: Record<string, unknown>) => void;
  reject: (error: TrainerError) => void;
}

const live = new Set<Trainer>();
// A process that ends normally must not leave trainers behind (Python also asks the kernel to
// kill it when its parent dies, which covers crashes of this process).
globalThis.addEventListener("unload", () => {
  for (const t of live) t.kill();
});

/** A running trainer process. */
export class Trainer {
  #child: Deno.ChildProcess;
  #writer: WritableStreamDefaultWriter<Uint8Array>;
  #stderrTail = "";
  #stderrTailBytes: number;
  #nextId = 1;
  #pending: Pending | null = null;
  #queue: Promise<unknown> = Promise.resolve();
  #exitCode: number | null = null;
  #exited: Promise<void>;
  #fatal: TrainerError | null = null;

  private constructor(child: Deno.ChildProcess, options: TrainerStartOptions) {
    this.#child = child;
    this.#stderrTailBytes = options.stderrTailBytes ?? 16384;
    this.#writer = child.stdin.getWriter();
    const stdoutDone = this.#readStdout();
    const stderrDone = this.#readStderr(options.echoStderr ?? false);
    this.#exited = (async () => {
      const status = await child.status;
      await Promise.allSettled([stdoutDone, stderrDone]);
      this.#exitCode = status.code;
      live.delete(this);
      const signal = status.signal ? ` (signal ${status.signal})` : "";
      this.#fail(
        this.#fatal ?? new TrainerError(
          "crashed",
          `Trainer exited with code ${status.code}${signal} while ${
            this.#pending ? `serving '${this.#pending.op}'` : "idle"
          }`,
          { exitCode: status.code, stderrTail: this.#stderrTail, op: this.#pending?.op },
        ),
      );
    })();
  }

  /** Starts `python -m cdpo_trainer` with the kit's trainer package on the path. */
  static async start(options: TrainerStartOptions = {}): Promise<Trainer> {
    const python = options.python ?? trainerPython();
    const launch = options.accelerateConfig ? ["--accelerate", options.accelerateConfig] : [];
    if (options.accelerateConfig) await checkAccelerateConfig(python, options.accelerateConfig);
    let child: Deno.ChildProcess;
    try {
      child = new Deno.Command(python, {
        args: ["-m", "cdpo_trainer", ...launch, ...(options.testOps ? ["--test-ops"] : [])],
        // Not the trainer folder: `-m` puts the cwd first on sys.path, which would shadow PYTHONPATH.
        cwd: kitPaths.root,
        env: {
          PYTHONUNBUFFERED: "1",
          PYTHONPATH: kitPaths.trainer,
          // Idle OpenMP threads sleep instead of spinning: on a machine whose cores are shared
          // (the kit's own Deno process runs ONNX sessions beside the trainer), spinning threads
          // made training steps several times slower. Only scheduling changes, never results.
          OMP_WAIT_POLICY: Deno.env.get("OMP_WAIT_POLICY") ?? "PASSIVE",
          ...options.env,
        },
        stdin: "piped",
        stdout: "piped",
        stderr: "piped",
      }).spawn();
    } catch (e) {
      const hint = e instanceof Deno.errors.NotFound
        ? " (run `deno task setup`, or point CDPO_PYTHON at an interpreter that has torch)"
        : "";
      return Promise.reject(
        new TrainerError(
          "crashed",
          `Cannot start trainer: ${python}: ${(e as Error).message}${hint}`,
          {
            exitCode: null,
            stderrTail: "",
          },
          { cause: e },
        ),
      );
    }
    const trainer = new Trainer(child, options);
    live.add(trainer);
    return Promise.resolve(trainer);
  }

  /** The process id (for tests and diagnostics). */
  get pid(): number {
    return this.#child.pid;
  }

  /** The exit code once the process has ended, else null. */
  get exitCode(): number | null {
    return this.#exitCode;
  }

  /** The end of what the process wrote to stderr (for failure messages). */
  get stderrTail(): string {
    return this.#stderrTail;
  }

  /** Resolves when the process has ended. */
  get exited(): Promise<void> {
    return this.#exited;
  }

  /** Sends one request and resolves with its result; requests are served in order. */
  request(
    op: string,
    params: Record<string, unknown> = {},
    options: RequestOptions = {},
  ): Promise<Record<string, unknown>> {
    const run = this.#queue.then(() => this.#send(op, params, options));
    this.#queue = run.catch(() => {});
    return run;
  }

  #send(
    op: string,
    params: Record<string, unknown>,
    options: RequestOptions,
  ): Promise<Record<string, unknown>> {
    if (this.#fatal) return Promise.reject(this.#fatal);
    const { signal } = options;
    if (signal?.aborted) return Promise.reject(this.#cancelled(op));
    const id = this.#nextId++;
    return new Promise((resolve, reject) => {
      const onAbort = () => {
        const error = this.#cancelled(op);
        this.#fatal = error;
        this.kill();
        reject(error);
      };
      signal?.addEventListener("abort", onAbort, { once: true });
      const done = () => signal?.removeEventListener("abort", onAbort);
      this.#pending = {
        id,
        op,
        onEvent: options.onEvent,
        resolve: (v) => {
          done();
          resolve(v);
        },
        reject: (e) => {
          done();
          reject(e);
        },
      };
      const line = new TextEncoder().encode(encodeRequest(id, op, params) + "\n");
      this.#writer.write(line).catch((e) => {
        this.#fail(
          new TrainerError(
            "crashed",
            `Cannot send '${op}' to the trainer: ${(e as Error).message}`,
            {
              exitCode: this.#exitCode,
              stderrTail: this.#stderrTail,
              op,
            },
            { cause: e },
          ),
        );
      });
    });
  }

  /** Closes stdin and waits for the process to finish; kills it after `graceMs`. */
  async close(graceMs = 5000): Promise<void> {
    await this.#queue;
    if (this.#exitCode === null) {
      this.#fatal ??= new TrainerError("crashed", "Trainer was closed", {
        exitCode: null,
        stderrTail: "",
      });
      await this.#writer.close().catch(() => {});
      const timer = setTimeout(() => this.kill(), graceMs);
      await this.#exited;
      clearTimeout(timer);
    }
  }

  /** Ends the process now (SIGKILL); pending requests reject. */
  kill(): void {
    if (this.#exitCode !== null) return;
    try {
      this.#child.kill("SIGKILL");
    } catch {
      // Already gone.
    }
  }

  #cancelled(op: string): TrainerError {
    return new TrainerError("cancelled", `Trainer request '${op}' was cancelled`, {
      exitCode: this.#exitCode,
      stderrTail: this.#stderrTail,
      op,
    });
  }

  #fail(error: TrainerError): void {
    this.#fatal ??= error;
    const pending = this.#pending;
    this.#pending = null;
    pending?.reject(error);
  }

  #dispatch(message: Message, line: string): void {
    const pending = this.#pending;
    if (message.type === "error" && message.id === null) {
      // The trainer could not parse what we sent: a bug on this side, reported as protocol.
      this.#protocolFailure(`Trainer rejected a request: ${message.error.message}`, line);
      return;
    }
    if (!pending || message.id !== pending.id) {
      this.#protocolFailure(
        `Trainer sent a message for request ${message.id}, but ${
          pending ? `request ${pending.id} ('${pending.op}')` : "none"
        } is pending`,
        line,
      );
      return;
    }
    if (message.type === "result") {
      this.#pending = null;
      pending.resolve(message.result);
    } else if (message.type === "error") {
      this.#pending = null;
      pending.reject(
        new TrainerError(
          "remote",
          `Trainer op '${pending.op}' failed (${message.error.kind}): ${message.error.message}`,
          {
            exitCode: this.#exitCode,
            stderrTail: this.#stderrTail,
            kind: message.error.kind,
            traceback: message.error.traceback,
            op: pending.op,
          },
        ),
      );
    } else {
      pending.onEvent?.(message);
    }
  }

  #protocolFailure(message: string, line: string): void {
    // After a protocol violation nothing the process says can be trusted: end it.
    this.#fail(
      new TrainerError("protocol", message, {
        exitCode: this.#exitCode,
        stderrTail: this.#stderrTail,
        line,
        op: this.#pending?.op,
      }),
    );
    this.kill();
  }

  async #readStdout(): Promise<void> {
    let buffer = "";
    for await (const chunk of this.#child.stdout.pipeThrough(new TextDecoderStream())) {
      buffer += chunk;
      let newline: number;
      while ((newline = buffer.indexOf("\n")) >= 0) {
        const line = buffer.slice(0, newline);
        buffer = buffer.slice(newline + 1);
        if (!line.trim()) continue;
        let message: Message;
        try {
          message = parseMessage(line);
        } catch (e) {
          if (e instanceof MalformedMessageError) {
            this.#protocolFailure(`${e.message}: ${JSON.stringify(line.slice(0, 200))}`, line);
            continue;
          }
          throw e;
        }
        this.#dispatch(message, line);
      }
    }
  }

  async #readStderr(echo: boolean): Promise<void> {
    for await (const chunk of this.#child.stderr.pipeThrough(new TextDecoderStream())) {
      if (echo) Deno.stderr.writeSync(new TextEncoder().encode(chunk));
      this.#stderrTail = (this.#stderrTail + chunk).slice(-this.#stderrTailBytes);
    }
  }
}
