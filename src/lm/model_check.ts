/**
 * Checks of a model directory before any work uses it, so a damaged or mismatched checkpoint is
 * named in one line instead of failing minutes later (or, worse, running to the end with wrong
 * results): the files are present and readable; the safetensors weights are complete; the ONNX
 * graphs the `ort` backend opens are complete; every token id of the tokenizer is below the
 * model's embedding rows (real models pad their embeddings, so rows may exceed the tokenizer);
 * the special tokens named by the configs exist; and a checkpoint the kit trained, which records
 * the hash of the tokenizer it was trained with (`cdpo_model.json`), still has that tokenizer —
 * a tokenizer whose ids were permuted would otherwise run to the end at a fraction of the
 * accuracy. {@linkcode checkSameTokenizer} then holds every model of a run to one tokenizer.
 *
 * @module
 */
import { existsSync } from "node:fs";
import { join } from "node:path";
import { sha256 } from "../io/hash.ts";
import { ModelFileError } from "./errors.ts";
import { checkOnnxFile } from "./onnx_file.ts";
import { readSafetensorsHeader, type SafetensorsTensor } from "./safetensors_header.ts";

/** The record a checkpoint written by the kit's trainer carries beside its weights. */
export const MODEL_RECORD = "cdpo_model.json";

/** What the checks found out about a model directory. */
export interface CheckedModel {
  dir: string;
  /** sha256 of tokenizer.json's bytes. */
  tokenizerSha256: string;
  /** Rows of the input embedding (the ids the model can read). */
  embeddingRows: number;
  /** Distinct token ids of the tokenizer, and the largest. */
  tokenizerSize: number;
  maxTokenId: number;
  /** Whether the directory records the tokenizer it was trained with (kit checkpoints). */
  recordsTokenizer: boolean;
}

/** Options of {@linkcode checkModelDir}. */
export interface ModelCheckOptions {
  /** The backend that will open it: `ort` also checks the ONNX export (torch and vLLM load the
   * safetensors weights). */
  backend: "ort" | "torch" | "vllm";
  /** For `ort`: where it runs (which graphs are opened). @default {"cpu"} */
  device?: "cpu" | "cuda";
}

/** Architectures (config.json `model_type`) each backend serves. */
export const SUPPORTED_MODEL_TYPES = {
  // The ONNX exporter builds Llama graphs only.
  ort: ["llama"],
  // transformers + peft (LoRA on every linear layer): the paper's models and the kit's.
  torch: ["llama", "mistral", "qwen2"],
  vllm: ["llama", "mistral", "qwen2"],
} as const;

/** Weight-file names that are not safetensors (pickle, GGUF): never loaded. */
const FOREIGN_WEIGHTS = /^(pytorch_model.*\.bin|.*\.pt|.*\.pth|.*\.ckpt|.*\.gguf)$/;

/** Checks the model directory `dir`; throws {@linkcode ModelFileError} naming the first fault. */
export async function checkModelDir(
  dir: string,
  options: ModelCheckOptions,
): Promise<CheckedModel> {
  const fail = (path: string, detail: string): never => {
    throw new ModelFileError(`Cannot use model ${dir}: ${detail}`, path);
  };
  let names: string[];
  try {
    if (!(await Deno.stat(dir)).isDirectory) fail(dir, "it is a file, not a model directory");
    names = [...Deno.readDirSync(dir)].map((e) => e.name);
  } catch (e) {
    if (e instanceof ModelFileError) throw e;
    throw new ModelFileError(
      `Cannot use model ${dir}: ${
        e instanceof Deno.errors.NotFound ? "no such directory" : (e as Error).message
      }; expected a Hugging Face model directory`,
      dir,
      { cause: e },
    );
  }
  for (const name of ["config.json", "tokenizer.json"]) {
    if (!names.includes(name)) fail(join(dir, name), `${name} is missing`);
  }
  const config = await readJsonObject(join(dir, "config.json"));
  const supported: readonly string[] = SUPPORTED_MODEL_TYPES[options.backend];
  if (typeof config.model_type !== "string" || !supported.includes(config.model_type)) {
    fail(
      join(dir, "config.json"),
      `its model_type is ${JSON.stringify(config.model_type ?? null)}; the ${options.backend} ` +
        `backend serves ${supported.join(", ")}` +
        (options.backend === "ort" ? " (set policy.backend to torch for others)" : ""),
    );
  }

  // Weights: safetensors only (no pickle); every shard complete.
  const shards = await weightFiles(dir, names, fail);
  const tensors = new Map<string, SafetensorsTensor>();
  for (const shard of shards) {
    for (const [k, v] of await readSafetensorsHeader(join(dir, shard))) tensors.set(k, v);
  }
  const embedding = [...tensors].find(([name]) =>
    /(^|\.)(embed_tokens|wte|word_embeddings|embed_in)\.weight$/.test(name)
  );
  const embeddingRows = embedding ? embedding[1].shape[0] : Number(config.vocab_size);
  if (!Number.isInteger(embeddingRows) || embeddingRows <= 0) {
    fail(
      join(dir, "config.json"),
      "neither its weights nor config.json's vocab_size give the embedding rows",
    );
  }

  // The tokenizer: readable, recorded (kit checkpoints), every id inside the embedding.
  const tokenizerPath = join(dir, "tokenizer.json");
  const tokenizerBytes = await readBytes(tokenizerPath);
  const tokenizerSha256 = await sha256(tokenizerBytes);
  const recordPath = join(dir, MODEL_RECORD);
  const recordsTokenizer = existsSync(recordPath);
  if (recordsTokenizer) {
    const recorded = (await readJsonObject(recordPath)).tokenizer_sha256;
    if (recorded !== tokenizerSha256) {
      fail(
        tokenizerPath,
        `tokenizer.json (sha256 ${tokenizerSha256.slice(0, 12)}) is not the tokenizer this model ` +
          `was trained with (${MODEL_RECORD} records ${String(recorded).slice(0, 12)}); ` +
          "put back the tokenizer.json it was saved with",
      );
    }
  }
  const vocab = tokenizerVocab(parseJson(tokenizerBytes, tokenizerPath), tokenizerPath);
  let maxTokenId = -1, maxToken = "";
  for (const [token, id] of vocab) if (id > maxTokenId) [maxTokenId, maxToken] = [id, token];
  if (maxTokenId >= embeddingRows) {
    fail(
      tokenizerPath,
      `token id ${maxTokenId} (${JSON.stringify(maxToken)}) of tokenizer.json is outside the ` +
        `model's ${embeddingRows} embedding rows; the tokenizer belongs to another model`,
    );
  }
  const ids = new Set(vocab.values());

  // Special tokens: the ids the configs name, and the tokens the tokenizer configs name.
  const generation = names.includes("generation_config.json")
    ? await readJsonObject(join(dir, "generation_config.json"))
    : {};
  for (
    const [file, source] of [["config.json", config], [
      "generation_config.json",
      generation,
    ]] as const
  ) {
    for (const key of ["bos_token_id", "eos_token_id", "pad_token_id"]) {
      const value = source[key];
      for (const id of value === undefined || value === null ? [] : [value].flat()) {
        if (!Number.isInteger(id) || !ids.has(id as number)) {
          fail(
            join(dir, file),
            `${file}'s ${key} ${JSON.stringify(id)} is not a token of tokenizer.json`,
          );
        }
      }
    }
  }
  if (config.eos_token_id == null && generation.eos_token_id == null) {
    fail(
      join(dir, "config.json"),
      "no eos_token_id in config.json or generation_config.json (generation could not stop)",
    );
  }
  for (const file of ["tokenizer_config.json", "special_tokens_map.json"]) {
    if (!names.includes(file)) continue;
    const source = await readJsonObject(join(dir, file));
    for (const key of ["bos_token", "eos_token", "unk_token", "pad_token"]) {
      const value = source[key];
      const token = typeof value === "string"
        ? value
        : (value && typeof value === "object"
          ? (value as { content?: unknown }).content
          : undefined);
      if (typeof token === "string" && !vocab.has(token)) {
        fail(
          join(dir, file),
          `${file}'s ${key} ${JSON.stringify(token)} is not a token of tokenizer.json`,
        );
      }
    }
  }

  // A directory without its own export gets one made into the kit's cache when it is opened.
  if (options.backend === "ort" && names.includes("model.onnx.json")) {
    await checkOnnxExport(dir, options.device ?? "cpu", fail);
  }
  return {
    dir,
    tokenizerSha256,
    embeddingRows,
    tokenizerSize: ids.size,
    maxTokenId,
    recordsTokenizer,
  };
}

/**
 * Throws unless every model shares the first one's tokenizer (same tokenizer.json bytes): the
 * positive, negative and trained models are read with the base policy's token ids.
 */
export function checkSameTokenizer(models: readonly CheckedModel[]): void {
  const [first, ...rest] = models;
  for (const m of rest) {
    if (m.tokenizerSha256 !== first.tokenizerSha256) {
      throw new ModelFileError(
        `Cannot use model ${m.dir} with ${first.dir}: their tokenizer.json files differ ` +
          `(sha256 ${m.tokenizerSha256.slice(0, 12)} vs ${first.tokenizerSha256.slice(0, 12)}); ` +
          "every model of a run must use the base policy's tokenizer",
        join(m.dir, "tokenizer.json"),
      );
    }
  }
}

async function weightFiles(
  dir: string,
  names: string[],
  fail: (path: string, detail: string) => never,
): Promise<string[]> {
  const index = "model.safetensors.index.json";
  if (names.includes(index)) {
    const map = (await readJsonObject(join(dir, index))).weight_map;
    if (!map || typeof map !== "object") fail(join(dir, index), `${index} has no weight_map`);
    const shards = [...new Set(Object.values(map as Record<string, string>))].sort();
    for (const s of shards) {
      if (!names.includes(s)) fail(join(dir, s), `${s}, named by ${index}, is missing`);
    }
    return shards;
  }
  if (names.includes("model.safetensors")) return ["model.safetensors"];
  const foreign = names.filter((n) => FOREIGN_WEIGHTS.test(n));
  return fail(
    join(dir, "model.safetensors"),
    foreign.length > 0
      ? `its weights (${
        foreign.join(", ")
      }) are not safetensors, and the kit loads safetensors only ` +
        "(no pickle); convert them: load with transformers and save_pretrained(..., safe_serialization=True)"
      : "model.safetensors (or a model.safetensors.index.json with its shards) is missing",
  );
}

/** The ONNX graphs the `ort` backend opens on `device` (src/lm/ort_model.ts), each complete. */
async function checkOnnxExport(
  dir: string,
  device: "cpu" | "cuda",
  fail: (path: string, detail: string) => never,
): Promise<void> {
  const main = join(dir, "model.onnx");
  const metaPath = `${main}.json`;
  for (const path of [main, metaPath]) {
    if (!existsSync(path)) {
      fail(
        path,
        `${
          path.slice(dir.length + 1)
        } is missing; export it with python -m cdpo_trainer.models.onnx_export ${dir}`,
      );
    }
  }
  const meta = await readJsonObject(metaPath);
  const graphs = [main];
  for (const key of ["decode_graph", "score_graph"]) {
    const name = meta[key];
    if (typeof name !== "string") continue;
    if (!existsSync(join(dir, name))) {
      fail(join(dir, name), `${name}, named by model.onnx.json, is missing; re-export the model`);
    }
    // The score graph runs on CPU only; the main graph is opened on CUDA, and on CPU when an
    // export has no score or decode graph. Checking it too costs a few reads, and a damaged
    // main graph means a damaged export.
    if (key === "decode_graph" || device === "cpu") graphs.push(join(dir, name));
  }
  for (const g of graphs) await checkOnnxFile(g);
}

/** Token -> id of a tokenizer.json (its model's vocabulary and its added tokens). */
function tokenizerVocab(json: Record<string, unknown>, path: string): Map<string, number> {
  const out = new Map<string, number>();
  const model = json.model as { vocab?: unknown } | undefined;
  const vocab = model?.vocab;
  if (Array.isArray(vocab)) {
    // Unigram: a list of [token, score]; the id is the position.
    vocab.forEach((entry, id) => out.set(String((entry as unknown[])[0]), id));
  } else if (vocab && typeof vocab === "object") {
    for (const [token, id] of Object.entries(vocab)) out.set(token, Number(id));
  } else {
    throw new ModelFileError(
      `Cannot use ${path}: it has no model.vocab (not a tokenizers file?)`,
      path,
    );
  }
  for (const added of (json.added_tokens ?? []) as { id?: unknown; content?: unknown }[]) {
    if (typeof added.content === "string" && Number.isInteger(added.id)) {
      out.set(added.content, added.id as number);
    }
  }
  return out;
}

async function readBytes(path: string): Promise<Uint8Array> {
  try {
    return await Deno.readFile(path);
  } catch (e) {
    throw new ModelFileError(`Cannot read ${path}: ${(e as Error).message}`, path, { cause: e });
  }
}

function parseJson(bytes: Uint8Array, path: string): Record<string, unknown> {
  let value: unknown;
  try {
    value = JSON.parse(new TextDecoder("utf-8", { fatal: true }).decode(bytes));
  } catch (e) {
    throw new ModelFileError(`Cannot parse ${path}: ${(e as Error).message}`, path, { cause: e });
  }
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    throw new ModelFileError(`Cannot use ${path}: expected a JSON object`, path);
  }
  return value as Record<string, unknown>;
}

async function readJsonObject(path: string): Promise<Record<string, unknown>> {
  return parseJson(await readBytes(path), path);
}
