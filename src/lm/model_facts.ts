/**
 * What a backend needs to know about a checkpoint, read from its config files.
 * @module
 */
import { ModelFileError } from "./errors.ts";
import { readJson } from "./tokenizer.ts";
import type { ModelFacts } from "./types.ts";

/** Shapes of the ONNX graph's KV cache, from `<onnx>.json` written by the exporter. */
export interface OnnxFacts extends ModelFacts {
  numLayers: number;
  hiddenSize: number;
  numKvHeads: number;
  headDim: number;
  /** File name of the decode graph beside the main one (format v2), else null (v1 exports). */
  decodeGraph: string | null;
  /** File name of the CPU score graph beside the main one (format v3), else null. */
  scoreGraph: string | null;
  /** File name of the weights the graphs share (format v4), else null (weights inside each graph). */
  dataFile: string | null;
}

/** Reads config.json (and generation_config.json for EOS) of a Hugging Face model directory. */
export async function readModelFacts(dir: string): Promise<ModelFacts> {
  const path = `${dir}/config.json`;
  const config = await readJson(path) as Record<string, unknown>;
  const vocabSize = config.vocab_size;
  const maxPositions = config.max_position_embeddings;
  if (!Number.isInteger(vocabSize) || !Number.isInteger(maxPositions)) {
    throw new ModelFileError(
      `Cannot read model facts from ${path}: vocab_size and max_position_embeddings must be integers`,
      path,
    );
  }
  let eos = config.eos_token_id;
  const genPath = `${dir}/generation_config.json`;
  try {
    const gen = JSON.parse(await Deno.readTextFile(genPath)) as Record<string, unknown>;
    if (gen.eos_token_id !== undefined) eos = gen.eos_token_id;
  } catch (e) {
    if (!(e instanceof Deno.errors.NotFound)) {
      throw new ModelFileError(`Cannot read ${genPath}: ${(e as Error).message}`, genPath, {
        cause: e,
      });
    }
  }
  return {
    vocabSize: vocabSize as number,
    maxPositions: maxPositions as number,
    eosTokenIds: eos === undefined || eos === null
      ? []
      : (Array.isArray(eos) ? eos : [eos]) as number[],
    bosTokenId: (config.bos_token_id ?? null) as number | null,
    padTokenId: (config.pad_token_id ?? null) as number | null,
  };
}

/** Reads the exporter's metadata beside an ONNX graph. */
export async function readOnnxFacts(onnxPath: string): Promise<OnnxFacts> {
  const path = `${onnxPath}.json`;
  const meta = await readJson(path) as Record<string, unknown>;
  // Each version only adds: v2 the decode graph, v3 the score graph, v4 one external data file
  // shared by the graphs (onnxruntime finds it beside them). Older exports still run (sampling
  // and scoring then use the main graph).
  if (
    meta.format !== "cdpo-kit-llama-onnx" ||
    ![1, 2, 3, 4].includes(meta.format_version as number)
  ) {
    throw new ModelFileError(
      `Cannot use ${path}: format ${meta.format} v${meta.format_version} is not cdpo-kit-llama-onnx v1 to v4; re-export the model`,
      path,
    );
  }
  const eos = meta.eos_token_id as number[] | null;
  return {
    vocabSize: meta.vocab_size as number,
    maxPositions: meta.max_position_embeddings as number,
    eosTokenIds: eos ?? [],
    bosTokenId: (meta.bos_token_id ?? null) as number | null,
    padTokenId: (meta.pad_token_id ?? null) as number | null,
    numLayers: meta.num_hidden_layers as number,
    hiddenSize: meta.hidden_size as number,
    numKvHeads: meta.num_key_value_heads as number,
    headDim: meta.head_dim as number,
    decodeGraph: typeof meta.decode_graph === "string" ? meta.decode_graph : null,
    scoreGraph: typeof meta.score_graph === "string" ? meta.score_graph : null,
    dataFile: typeof meta.data_file === "string" ? meta.data_file : null,
  };
}
