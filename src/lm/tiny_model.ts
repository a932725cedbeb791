/**
 * A small random-initialised Llama directory with its ONNX export, for tests and benchmarks
 * (built by trainer/cdpo_trainer/models/tiny_llama.py and models/onnx_export.py in the kit's Python).
 * @module
 */
import { kitPaths, trainerPython } from "../paths.ts";

/** Shape of the tiny model (snake_case fields of `TinyLlamaSpec` in tiny_llama.py). */
export interface TinyModelSpec {
  vocab_size?: number;
  hidden_size?: number;
  intermediate_size?: number;
  num_hidden_layers?: number;
  num_attention_heads?: number;
  num_key_value_heads?: number;
  max_position_embeddings?: number;
  tie_word_embeddings?: boolean;
  seed?: number;
}

/** Writes a tiny Llama (config, safetensors, tokenizer) plus model.onnx into `dir`; returns `dir`. */
export async function createTinyModel(dir: string, spec: TinyModelSpec = {}): Promise<string> {
  const code = [
    "import json, sys",
    "from cdpo_trainer.models.tiny_llama import TinyLlamaSpec, build_tiny_llama",
    "from cdpo_trainer.models.onnx_export import export_onnx",
    "export_onnx(build_tiny_llama(sys.argv[1], TinyLlamaSpec(**json.loads(sys.argv[2]))))",
  ].join("\n");
  const out = await new Deno.Command(trainerPython(), {
    args: ["-c", code, dir, JSON.stringify(spec)],
    env: { PYTHONPATH: kitPaths.trainer },
    stdout: "piped",
    stderr: "piped",
  }).output();
  if (!out.success) {
    throw new Error(
      `Cannot build the tiny model in ${dir}: ${new TextDecoder().decode(out.stderr).slice(-2000)}`,
    );
  }
  return dir;
}
