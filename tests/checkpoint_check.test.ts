// A checkpoint that cannot serve is refused before any work, naming the file and the fix.
import assert from "node:assert/strict";
import { join } from "node:path";
import { checkCheckpoint } from "../src/lm/checkpoint_check.ts";
import { createTinyModel, ModelFileError } from "../src/lm/mod.ts";
import { kitPaths } from "../src/paths.ts";

const names = (path: string, text: RegExp) => (e: unknown) =>
  e instanceof ModelFileError && e.path === path && text.test(e.message) &&
  e.message.includes(path);

Deno.test("checkpoint checks: weights, tokenizer fit, architecture", async () => {
  const dir = await createTinyModel(await Deno.makeTempDir({ dir: kitPaths.cache }), {
    vocab_size: 64,
  });
  try {
    // A good tiny Llama passes for both backends.
    await checkCheckpoint(dir, "ort");
    await checkCheckpoint(dir, "torch");
    const configPath = join(dir, "config.json");
    const config = JSON.parse(await Deno.readTextFile(configPath));

    // A tokenizer with more ids than the model has embeddings belongs to another model.
    await Deno.writeTextFile(configPath, JSON.stringify({ ...config, vocab_size: 10 }));
    await assert.rejects(
      checkCheckpoint(dir, "torch"),
      names(join(dir, "tokenizer.json"), /token ids up to \d+, but .* vocab_size 10/),
    );

    // An architecture the backend does not serve: named with what it serves instead.
    await Deno.writeTextFile(
      configPath,
      JSON.stringify({ ...config, model_type: "qwen2", architectures: ["Qwen2ForCausalLM"] }),
    );
    await checkCheckpoint(dir, "torch");
    await assert.rejects(
      checkCheckpoint(dir, "ort"),
      names(configPath, /model_type "qwen2".*serves llama \(use policy\.backend torch/),
    );
    await Deno.writeTextFile(configPath, JSON.stringify({ ...config, model_type: "gpt2" }));
    await assert.rejects(checkCheckpoint(dir, "torch"), names(configPath, /"gpt2"/));
    await Deno.writeTextFile(configPath, JSON.stringify(config));

    // Weights: pickled .bin files are not read; a sharded index must have all its shards.
    const weights = join(dir, "model.safetensors");
    await Deno.rename(weights, join(dir, "pytorch_model.bin"));
    await assert.rejects(
      checkCheckpoint(dir, "torch"),
      names(weights, /pytorch_model\.bin is not read .*safetensors only/),
    );
    const index = join(dir, "model.safetensors.index.json");
    await Deno.writeTextFile(
      index,
      JSON.stringify({ weight_map: { "a.weight": "model-00001-of-00002.safetensors" } }),
    );
    await assert.rejects(
      checkCheckpoint(dir, "torch"),
      names(index, /missing shards \(model-00001-of-00002\.safetensors\)/),
    );
    await Deno.writeTextFile(join(dir, "model-00001-of-00002.safetensors"), "");
    await checkCheckpoint(dir, "torch");

    // No tokenizer, no config.
    await Deno.remove(join(dir, "tokenizer.json"));
    await assert.rejects(
      checkCheckpoint(dir, "torch"),
      names(
        join(dir, "tokenizer.json"),
        /tokenizer\.json does not exist \(the kit tokenizes with it/,
      ),
    );
    await Deno.remove(configPath);
    await assert.rejects(
      checkCheckpoint(dir, "torch"),
      names(configPath, /not a Hugging Face model directory/),
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
