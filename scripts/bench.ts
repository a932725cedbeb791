/**
 * Side-by-side benchmarks of the LM engine on a tiny policy (CPU): scoring throughput of the
 * in-process ONNX backend against the torch backend, and sampling throughput against
 * transformers' `generate()`, memory while scoring a 100k-trajectory stream, one cDPO training
 * step against one DPO step, plus peak memory. Uses the world policy at data/policy/ when it
 * exists, else a random Llama of comparable size. Then the engines (scripts/bench_engines.ts):
 * two CPU ranks against one process, and the kit's vLLM client against a plain one.
 *
 * Then the same sampling comparison on a real model (scripts/bench_real_sampling.ts):
 * SmolLM2-135M-Instruct with 8-shot GSM8K prompts, 32 rows, torch backend and `ort` against
 * `generate()` (`real_sample_torch_vs_generate`, `real_sample_ort_vs_generate`).
 *
 * Usage: deno run -A scripts/bench.ts [--repeats N] [--stream ITEMS] [--real-repeats N]
 *        [--real-new-tokens N] [--real-only]
 * The last line of output is one JSON object: ratios (higher is better) and the raw numbers.
 */
import { join } from "node:path";
import { kitPaths, trainerPython } from "../src/paths.ts";
import {
  createTinyModel,
  OrtLanguageModel,
  type ScoreItem,
  scoreStream,
  TorchLanguageModel,
} from "../src/lm/mod.ts";
import { Random } from "../src/random.ts";
import { Trainer } from "../src/trainer/client.ts";
import { ddp2VsSingleLossMaxdiff, serverKitVsRaw, writeRandomPairs } from "./bench_engines.ts";
import { methodSpec } from "../src/method/methods.ts";
import { DEFAULT_RUN_CONFIG } from "../src/run/config.ts";
import { fineTuneParams } from "../src/pipeline/train_params.ts";
import { installErrorSurface, parseCliArgs } from "../src/cli/main.ts";
import { benchRealSampling } from "./bench_real_sampling.ts";

installErrorSurface("bench");
const { values: args } = parseCliArgs({
  name: "bench",
  usage: "usage: deno task bench [--repeats N] [--stream ITEMS] [--real-repeats N] " +
    "[--real-new-tokens N] [--real-only]",
  options: {
    repeats: { type: "string", default: "7" },
    stream: { type: "string", default: "100000" },
    "real-repeats": { type: "string", default: "2" },
    "real-new-tokens": { type: "string", default: "64" },
    "real-only": { type: "boolean", default: false },
  },
});
const repeats = positiveInt(args.repeats!, "--repeats");
const realOptions = {
  repeats: positiveInt(args["real-repeats"] as string, "--real-repeats"),
  newTokens: positiveInt(args["real-new-tokens"] as string, "--real-new-tokens"),
  log: (line: string) => console.log(line),
};
if (args["real-only"]) {
  const work = await Deno.makeTempDir({ prefix: "cdpo-bench-" });
  const trainer = await Trainer.start();
  try {
    const real = await benchRealSampling(trainer, work, realOptions);
    console.log(JSON.stringify(roundAll(real)));
  } finally {
    await trainer.close();
    await Deno.remove(work, { recursive: true });
  }
  Deno.exit(0);
}
const BATCH = 32, LENGTH = 128, PROMPT = 16, NEW_TOKENS = 64;

const work = await Deno.makeTempDir({ prefix: "cdpo-bench-" });
const { dir, onnxPath, source } = await benchModel(work);
const peak = startPeakRss();
const trainer = await Trainer.start();
const ort = await OrtLanguageModel.load(dir, {
  onnxPath,
  batchSize: BATCH,
  sampleBatchSize: 64,
});
const torch = await TorchLanguageModel.load(dir, { trainer, device: "cpu", batchSize: BATCH });
const V = ort.facts.vocabSize;
console.log(`model: ${source} (vocab ${V}, context ${ort.facts.maxPositions}); repeats ${repeats}`);

try {
  const rng = new Random(1);
  const tokens = (n: number) => Array.from({ length: n }, () => rng.int(4, V - 1));
  const items: ScoreItem[] = Array.from(
    { length: BATCH },
    () => ({ prompt: [2, ...tokens(PROMPT - 1)], continuation: tokens(LENGTH - PROMPT) }),
  );
  const [scoreOrt, scoreTorch] = await throughputs(BATCH * LENGTH, [
    () => ort.scoreContinuations(items),
    () => torch.scoreContinuations(items),
  ]);
  console.log(
    `score ${BATCH}x${LENGTH}: ort ${scoreOrt.toFixed(0)} tok/s, torch ${
      scoreTorch.toFixed(0)
    } tok/s`,
  );

  const sampling = {
    temperature: 1,
    topP: 0.95,
    maxNewTokens: NEW_TOKENS,
    seed: 3,
    ignoreEos: true,
  };
  const result: Record<string, number> = {};
  for (const b of [1, 32, 64]) {
    const prompts = Array.from({ length: b }, () => [2, ...tokens(PROMPT - 1)]);
    const opts = { prompts, ...sampling };
    [
      result[`sample_ort_b${b}`],
      result[`sample_generate_b${b}`],
      result[`sample_torch_backend_b${b}`],
    ] = await throughputs(b * NEW_TOKENS, [
      () => ort.sample(opts),
      () => torch.generate(opts),
      () => torch.sample(opts),
    ]);
    console.log(
      `sample b${b} x ${NEW_TOKENS} new: ort ${result[`sample_ort_b${b}`].toFixed(0)} tok/s, ` +
        `generate() ${result[`sample_generate_b${b}`].toFixed(0)} tok/s, torch backend ${
          result[`sample_torch_backend_b${b}`].toFixed(0)
        } tok/s`,
    );
  }
  // Memory while scoring a long stream: items are generated lazily and scored in chunks, so the
  // resident size after 100k trajectories should be what it was after the first 10k.
  const streamItems = positiveInt(args.stream!, "--stream");
  const stream = await streamMemory(
    ort,
    streamItems,
    () => ({ prompt: [2, ...tokens(3)], continuation: tokens(12) }),
  );
  console.log(
    `stream of ${streamItems} trajectories: ${stream.tokS.toFixed(0)} tok/s; RSS ${
      stream.rssEarlyMib.toFixed(0)
    } MiB ` +
      `after 10%, ${stream.rssEndMib.toFixed(0)} MiB at the end`,
  );

  // One training step of cDPO against DPO on the same pairs (trainer op), alternated and medianed
  // because this machine is shared.
  const stepRatio = await objectiveStepRatio(trainer, dir, work, tokens);
  console.log(
    `training step: cdpo/dpo ${stepRatio.ratio.toFixed(3)} (dpo ${stepRatio.dpo.toFixed(4)} s)`,
  );

  const ddp = await ddp2VsSingleLossMaxdiff(dir, work, tokens);
  console.log(
    `ddp2 vs single process: max |loss difference| ${
      ddp.maxdiff.toExponential(2)
    } over ${ddp.steps} steps`,
  );
  const server = await serverKitVsRaw(trainer, Math.min(repeats, 3));
  if ("skipped" in server) console.log(`server_kit_vs_raw: skipped (${server.skipped})`);
  else {
    console.log(
      `vLLM server sampling: kit ${server.kit.toFixed(0)} tok/s, plain client ${
        server.raw.toFixed(0)
      } tok/s`,
    );
  }

  const trainerPeak = await peakRssOf(trainer.pid);
  const real = await benchRealSampling(trainer, work, realOptions);
  const summary = {
    ...roundAll(real),
    score_ort_vs_torch: round(scoreOrt / scoreTorch),
    sample_ort_vs_generate_b1: round(result.sample_ort_b1 / result.sample_generate_b1),
    sample_ort_vs_generate_b32: round(result.sample_ort_b32 / result.sample_generate_b32),
    sample_ort_vs_generate_b64: round(result.sample_ort_b64 / result.sample_generate_b64),
    cdpo_vs_dpo_step: round(stepRatio.ratio),
    server_kit_vs_raw: "skipped" in server ? null : round(server.ratio),
    ddp2_vs_single_loss_maxdiff: Number(ddp.maxdiff.toExponential(2)),
    score_ort_tok_s: round(scoreOrt),
    score_torch_tok_s: round(scoreTorch),
    ...Object.fromEntries(Object.entries(result).map(([k, v]) => [`${k}_tok_s`, round(v)])),
    stream_items: streamItems,
    stream_tok_s: round(stream.tokS),
    stream_rss_growth_mib: round(stream.rssEndMib - stream.rssEarlyMib),
    dpo_step_s: round(stepRatio.dpo),
    cdpo_step_s: round(stepRatio.cdpo),
    server_kit_tok_s: "skipped" in server ? null : round(server.kit),
    server_raw_tok_s: "skipped" in server ? null : round(server.raw),
    peak_rss_deno_mib: round(peak.stop() / 2 ** 20),
    peak_rss_trainer_mib: trainerPeak === null ? null : round(trainerPeak / 2 ** 20),
    model: source,
    vocab: V,
    repeats,
  };
  console.log(JSON.stringify(summary));
} finally {
  await ort.close();
  await torch.close();
  await trainer.close();
  await Deno.remove(work, { recursive: true });
}

/** Scores `count` generated items through scoreStream; RSS after 10% and at the end. */
async function streamMemory(
  model: OrtLanguageModel,
  count: number,
  make: () => ScoreItem,
): Promise<{ tokS: number; rssEarlyMib: number; rssEndMib: number }> {
  function* items(): Generator<ScoreItem> {
    for (let i = 0; i < count; i++) yield make();
  }
  let seen = 0, tokens = 0, rssEarly = 0;
  const started = performance.now();
  for await (const lp of scoreStream(model, items(), { chunkSize: 256 })) {
    tokens += lp.length;
    if (++seen === Math.floor(count / 10)) rssEarly = Deno.memoryUsage().rss;
  }
  const seconds = (performance.now() - started) / 1000;
  return {
    tokS: tokens / seconds,
    rssEarlyMib: rssEarly / 2 ** 20,
    rssEndMib: Deno.memoryUsage().rss / 2 ** 20,
  };
}

/** Median seconds per step of cDPO and DPO on the same random pairs, alternating runs. */
async function objectiveStepRatio(
  trainer: Trainer,
  modelDir: string,
  work: string,
  tokens: (n: number) => number[],
): Promise<{ ratio: number; dpo: number; cdpo: number }> {
  const pairsPath = await writeRandomPairs(join(work, "pairs.jsonl"), tokens, {
    pairs: 64,
    prompt: 30,
    response: 40,
  });
  const times: Record<"dpo" | "cdpo", number[]> = { dpo: [], cdpo: [] };
  for (let round = 0; round < 3; round++) {
    for (const objective of ["dpo", "cdpo"] as const) {
      const spec = methodSpec(objective);
      const r = await trainer.request("bench_objective_step", {
        ...fineTuneParams(DEFAULT_RUN_CONFIG, {
          modelDir,
          lr: 5e-5,
          steps: 10,
          batchSize: 16,
          seed: 0,
        }),
        pairs_path: pairsPath,
        out_dir: join(work, "bench-step"),
        objective: spec.objective!(DEFAULT_RUN_CONFIG.training.hyper[objective]),
        export_onnx: false,
        warmup: 2,
      });
      times[objective].push(Number(r.seconds_per_step));
    }
  }
  const median = (xs: number[]) => xs.slice().sort((a, b) => a - b)[Math.floor(xs.length / 2)];
  const dpo = median(times.dpo), cdpo = median(times.cdpo);
  return { ratio: cdpo / dpo, dpo, cdpo };
}

/** The world policy when present (exported to a temp ONNX if needed), else a random tiny Llama. */
async function benchModel(
  work: string,
): Promise<{ dir: string; onnxPath: string; source: string }> {
  const policy = join(kitPaths.data, "policy");
  try {
    await Deno.stat(join(policy, "config.json"));
    const onnxPath = join(work, "model.onnx");
    const code =
      "import sys\nfrom cdpo_trainer.models.onnx_export import export_onnx\nexport_onnx(sys.argv[1], sys.argv[2])";
    const out = await new Deno.Command(trainerPython(), {
      args: ["-c", code, policy, onnxPath],
      env: { PYTHONPATH: kitPaths.trainer },
    }).output();
    if (!out.success) {
      throw new Error(`Cannot export ${policy}: ${new TextDecoder().decode(out.stderr)}`);
    }
    return { dir: policy, onnxPath, source: "data/policy" };
  } catch (e) {
    if (!(e instanceof Deno.errors.NotFound)) throw e;
  }
  const dir = await createTinyModel(join(work, "tiny"), {
    vocab_size: 160,
    hidden_size: 192,
    intermediate_size: 512,
    num_hidden_layers: 4,
    num_attention_heads: 6,
    num_key_value_heads: 2,
    max_position_embeddings: 512,
  });
  return {
    dir,
    onnxPath: join(dir, "model.onnx"),
    source: "random tiny llama (4 x 192, vocab 160)",
  };
}

/**
 * Tokens per second of each of `fns` (after one warm-up call each), best of `repeats` runs. The
 * runs alternate between the contenders, so a burst of load on this shared machine falls on all
 * of them rather than on whichever happened to be measuring.
 */
async function throughputs(
  tokensPerCall: number,
  fns: (() => Promise<unknown>)[],
): Promise<number[]> {
  for (const fn of fns) await fn();
  const best = fns.map(() => Infinity);
  for (let r = 0; r < repeats; r++) {
    for (const [k, fn] of fns.entries()) {
      const t0 = performance.now();
      await fn();
      best[k] = Math.min(best[k], performance.now() - t0);
    }
  }
  return best.map((ms) => tokensPerCall / (ms / 1000));
}

/** Polls this process's RSS (Deno has no high-water mark API); `stop()` returns the peak. */
function startPeakRss(): { stop(): number } {
  let peak = Deno.memoryUsage().rss;
  const timer = setInterval(() => peak = Math.max(peak, Deno.memoryUsage().rss), 20);
  return {
    stop() {
      clearInterval(timer);
      return Math.max(peak, Deno.memoryUsage().rss);
    },
  };
}

/** VmHWM (peak resident set) of a process from /proc, or null where /proc does not exist. */
async function peakRssOf(pid: number): Promise<number | null> {
  try {
    const status = await Deno.readTextFile(`/proc/${pid}/status`);
    const kb = /VmHWM:\s+(\d+) kB/.exec(status)?.[1];
    return kb ? Number(kb) * 1024 : null;
  } catch {
    return null;
  }
}

function positiveInt(text: string, option: string): number {
  const n = Number(text);
  if (!Number.isInteger(n) || n < 1) {
    console.error(`bench: ${option} must be a positive integer, got ${JSON.stringify(text)}`);
    Deno.exit(2);
  }
  return n;
}

function round(x: number): number {
  return Math.round(x * 100) / 100;
}

function roundAll(values: Record<string, number>): Record<string, number> {
  return Object.fromEntries(Object.entries(values).map(([k, v]) => [k, round(v)]));
}
