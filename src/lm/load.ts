/**
 * One entry point that opens a model directory with the chosen backend.
 * @module
 */
import { OrtLanguageModel, type OrtModelOptions } from "./ort_model.ts";
import { TorchLanguageModel, type TorchModelOptions } from "./torch_model.ts";
import type { LanguageModel } from "./types.ts";
import { VllmLanguageModel, type VllmModelOptions } from "./vllm_model.ts";

/** Which backend serves a model, and its options. */
export type LoadOptions =
  | ({ backend: "ort" } & OrtModelOptions)
  | ({ backend: "torch" } & TorchModelOptions)
  | ({ backend: "vllm" } & VllmModelOptions);

/**
 * Opens the Hugging Face model directory `dir` (config.json, model.safetensors, tokenizer.json;
 * for `ort` also model.onnx and model.onnx.json from the exporter; for `vllm` the servers' URLs,
 * or none for a server the kit starts).
 */
export async function loadLanguageModel(
  dir: string,
  options: LoadOptions = { backend: "ort" },
): Promise<LanguageModel> {
  if (options.backend === "vllm") return await VllmLanguageModel.open(dir, options);
  return options.backend === "torch"
    ? await TorchLanguageModel.load(dir, options)
    : await OrtLanguageModel.load(dir, options);
}
