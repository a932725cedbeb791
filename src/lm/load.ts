/**
 * One entry point that opens a model directory with the chosen backend.
 * @module
 */
import { OrtLanguageModel, type OrtModelOptions } from "./ort_model.ts";
import { TorchLanguageModel, type TorchModelOptions } from "./torch_model.ts";
import type { LanguageModel } from "./types.ts";

/** Which backend serves a model, and its options. */
export type LoadOptions =
  | ({ backend: "ort" } & OrtModelOptions)
  | ({ backend: "torch" } & TorchModelOptions);

/**
 * Opens the Hugging Face model directory `dir` (config.json, model.safetensors, tokenizer.json;
 * for `ort` also model.onnx and model.onnx.json from the exporter).
 */
export async function loadLanguageModel(
  dir: string,
  options: LoadOptions = { backend: "ort" },
): Promise<LanguageModel> {
  return options.backend === "torch"
    ? await TorchLanguageModel.load(dir, options)
    : await OrtLanguageModel.load(dir, options);
}
