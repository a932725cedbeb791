/**
 * Language models for the kit: one {@linkcode LanguageModel} interface (tokenize, score per-token
 * log-probs, next-token distributions, seeded sampling with forced prefixes and first-token
 * masks) with three backends: onnxruntime-node in process (`ort`), transformers in the trainer
 * process (`torch`), and vLLM servers (`vllm`). `ort` and `torch` pick tokens with the same rule
 * from the same random streams; `vllm` samples with the server's own seeded generator.
 *
 * @example
 * ```ts ignore
 * import { loadLanguageModel } from "./mod.ts";
 * const lm = await loadLanguageModel("runs/x/policy", { backend: "ort" });
 * const [lp] = await lm.scoreContinuations([{ prompt: [2], continuation: lm.tokenize("3 + 4 = 7") }]);
 * const samples = await lm.sample({ prompts: [[2]], n: 4, temperature: 1, topP: 0.95, maxNewTokens: 32, seed: 1 });
 * await lm.close();
 * ```
 * @module
 */
export type {
  ContrastiveScore,
  DistributionItem,
  LanguageModel,
  ModelFacts,
  Sample,
  SampleOptions,
  SamplePrompt,
  ScoreItem,
  StopReason,
} from "./types.ts";
export { LmInputError, ModelFileError } from "./errors.ts";
export { loadLanguageModel, type LoadOptions } from "./load.ts";
export { OrtLanguageModel, type OrtModelOptions } from "./ort_model.ts";
export { TorchLanguageModel, type TorchModelOptions } from "./torch_model.ts";
export { VllmLanguageModel, type VllmModelOptions } from "./vllm_model.ts";
export { VllmClient, type VllmClientOptions, VllmServerError } from "./vllm_client.ts";
export { VllmServer, type VllmServerOptions, VllmStartError } from "./vllm_server.ts";
export { scoreStream, type ScoreStreamOptions } from "./stream.ts";
export { TextTokenizer } from "./tokenizer.ts";
export { logSumExp, selectToken } from "./sampling.ts";
export { planBatches } from "./batching.ts";
export { createTinyModel, type TinyModelSpec } from "./tiny_model.ts";
export {
  isGgufPath,
  isPackagePath,
  resolveModelPath,
  type ResolveModelPathOptions,
  SMOLLM2_135M_INSTRUCT,
} from "./model_path.ts";
