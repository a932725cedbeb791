/**
 * Side-by-side benchmarks of the LM engine on a tiny policy (CPU): scoring throughput of the
 * in-process ONNX backend against the torch backend, and sampling throughput against
 * transformers' `generate()`, memory while scoring a 100k-trajectory stream, one cDPO training
 * step against one DPO step, plus peak memory. Uses the world policy at data/policy/ when it
 * exists, else a random Llama of comparable size.
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
import { benchRealSampling } from "./bench_real_sampling.ts";

const repeats = Number(argValue("--repeats") ?? 7);
const realOptions = {
  repeats: Number(argValue("--real-repeats") ?? 2),
  newTokens: Number(argValue("--real-new-tokens") ?? 64),
  log: (line: string) => console.log(line),
};
if (Deno.args.includes("--real-only")) {
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
  const streamItems = Number(argValue("--stream") ?? 100_000);
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

  const trainerPeak = await peakRssOf(trainer.pid);
  const real = await benchRealSampling(trainer, work, realOptions);
  const summary = {
    ...roundAll(real),
    score_ort_vs_torch: round(scoreOrt / scoreTorch),
    sample_ort_vs_generate_b1: round(result.sample_ort_b1 / result.sample_generate_b1),
    sample_ort_vs_generate_b32: round(result.sample_ort_b32 / result.sample_generate_b32),
    sample_ort_vs_generate_b64: round(result.sample_ort_b64 / result.sample_generate_b64),
    cdpo_vs_dpo_step: round(stepRatio.ratio),
    score_ort_tok_s: round(scoreOrt),
    score_torch_tok_s: round(scoreTorch),
    ...Object.fromEntries(Object.entries(result).map(([k, v]) => [`${k}_tok_s`, round(v)])),
    stream_items: streamItems,
    stream_tok_s: round(stream.tokS),
    stream_rss_growth_mib: round(stream.rssEndMib - stream.rssEarlyMib),
    dpo_step_s: round(stepRatio.dpo),
    cdpo_step_s: round(stepRatio.cdpo),
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
  const pairsPath = join(work, "pairs.jsonl");
  const lines = Array.from({ length: 64 }, () => {
    const rejected = tokens(40);
    return JSON.stringify({
      prompt_ids: [2, ...tokens(30)],
      chosen_ids: tokens(40),
      rejected_ids: rejected,
      rejected_weights: rejected.map((_, i) => (i % 7) / 7),
    });
  });
  await Deno.writeTextFile(pairsPath, lines.join("\n") + "\n");
  const times: Record<"dpo" | "cdpo", number[]> = { dpo: [], cdpo: [] };
  for (let round = 0; round < 3; round++) {
    for (const objective of ["dpo", "cdpo"] as const) {
      const r = await trainer.request("bench_objective_step", {
        model_dir: modelDir,
        pairs_path: pairsPath,
        objective,
        steps: 10,
        batch_size: 16,
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

function argValue(name: string): string | undefined {
  const i = Deno.args.indexOf(name);
  return i >= 0 ? Deno.args[i + 1] : undefined;
}

function round(x: number): number {
  return Math.round(x * 100) / 100;
}

function roundAll(values: Record<string, number>): Record<string, number> {
  return Object.fromEntries(Object.entries(values).map(([k, v]) => [k, round(v)]));
}
