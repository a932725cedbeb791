/**
 * The run-config section of the `vllm` backend (`policy.vllm`): which servers, how many requests
 * in flight, and how the kit starts a server itself. Its defaults and checks live here so the run
 * config only names it.
 *
 * @module
 */
import { ConfigError } from "../config/errors.ts";
import type { Rule } from "../config/resolve.ts";
import { resolve } from "node:path";
import type { LanguageModel } from "./types.ts";
import { normaliseUrl } from "./vllm_client.ts";
import type { VllmModelOptions } from "./vllm_model.ts";

/** `policy.vllm` of a run config. */
export interface VllmSettings {
  /**
   * Running servers that serve the base policy (data parallelism across the list; tensor
   * parallelism is each server's own `--tensor-parallel-size`). Empty: the kit starts a server
   * on every model it samples from (the base policy and the models it trains).
   */
  urls: string[];
  /** The name the URLs serve the policy under. null: the policy's absolute path (vLLM's default). */
  servedModelName: string | null;
  /** Requests in flight per server. */
  concurrency: number;
  /** Servers the kit starts: `--max-model-len` (0: the model's own context). */
  maxModelLen: number;
  /** Servers the kit starts: `--dtype` ("auto" on GPUs; the CPU build needs "float32" or "bfloat16"). */
  dtype: string;
  /** Servers the kit starts: more arguments, e.g. ["--tensor-parallel-size", "8"]. */
  args: string[];
  /** Servers the kit starts on a CPU build: GiB of KV cache (VLLM_CPU_KVCACHE_SPACE). */
  cpuKvCacheGiB: number;
  /** Servers the kit starts: seconds to wait for /health. */
  startTimeoutS: number;
}

/** The defaults: the kit starts servers; sized for one GPU. */
export const DEFAULT_VLLM_SETTINGS: VllmSettings = {
  urls: [],
  servedModelName: null,
  concurrency: 64,
  maxModelLen: 0,
  dtype: "auto",
  args: [],
  cpuKvCacheGiB: 2,
  startTimeoutS: 900,
};

/** Ranges the resolver checks (keys are dotted paths of the run config). */
export const VLLM_RULES: Record<string, Rule> = {
  "policy.vllm.servedModelName": { kind: "nullableString" },
  "policy.vllm.concurrency": { kind: "int", min: 1 },
  "policy.vllm.maxModelLen": { kind: "int", min: 0 },
  "policy.vllm.cpuKvCacheGiB": { kind: "int", min: 1 },
  "policy.vllm.startTimeoutS": { kind: "int", min: 1 },
};

/** What the resolver cannot say by type: the lists' items. */
export function checkVllmSettings(settings: VllmSettings, file: string): void {
  settings.urls.forEach((url, i) => {
    try {
      if (typeof url !== "string") throw new RangeError(`got ${JSON.stringify(url)}`);
      normaliseUrl(url);
    } catch (e) {
      throw new ConfigError(
        file,
        `policy.vllm.urls[${i}]`,
        "a server URL http://host:port",
        (e as Error).message,
      );
    }
  });
  settings.args.forEach((arg, i) => {
    if (typeof arg !== "string") {
      throw new ConfigError(
        file,
        `policy.vllm.args[${i}]`,
        "a string",
        `got ${JSON.stringify(arg)}`,
      );
    }
  });
}

/**
 * How a run opens `dir` on the vllm backend: the given URLs serve the base policy only; every
 * other model (the ones the run trains) gets a server the kit starts. `distributions` serves the
 * full next-token distributions no server returns.
 */
export function vllmModelOptions(
  settings: VllmSettings,
  dir: string,
  policyDir: string,
  device: "cpu" | "cuda",
  distributions: () => Promise<LanguageModel>,
): VllmModelOptions {
  const external = settings.urls.length > 0 && resolve(dir) === resolve(policyDir);
  return {
    concurrency: settings.concurrency,
    distributions,
    ...(external ? { urls: settings.urls, servedModelName: settings.servedModelName } : {
      server: {
        maxModelLen: settings.maxModelLen || null,
        dtype: settings.dtype,
        args: settings.args,
        startTimeoutS: settings.startTimeoutS,
        env: device === "cpu" ? { VLLM_CPU_KVCACHE_SPACE: String(settings.cpuKvCacheGiB) } : {},
      },
    }),
  };
}
