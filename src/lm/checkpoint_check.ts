/**
 * A checkpoint directory checked before any work: its config names an architecture the backend
 * serves, its weights are safetensors that are all there, and its tokenizer fits the model (no
 * token id beyond the embedding). Each refusal names the file and what would fix it, so a bad
 * path fails in a second instead of after a model load or a sampling stage.
 *
 * @module
 */
import { existsSync } from "node:fs";
import { join } from "node:path";
import { ModelFileError } from "./errors.ts";

/** Architectures (config.json `model_type`) each backend serves. */
export const SUPPORTED_MODEL_TYPES = {
  // The ONNX exporter builds Llama graphs only.
  ort: ["llama"],
  // transformers + peft (LoRA on every linear layer); the paper's and the kit's targets.
  torch: ["llama", "mistral", "qwen2"],
} as const;

/** Checks `dir` for `backend`; throws a {@linkcode ModelFileError} naming the offending file. */
export async function checkCheckpoint(dir: string, backend: "ort" | "torch"): Promise<void> {
  const configPath = join(dir, "config.json");
  const config = await readJsonObject(
    configPath,
    `${dir} is not a Hugging Face model directory`,
  );
  const type = config.model_type;
  const supported: readonly string[] = SUPPORTED_MODEL_TYPES[backend];
  if (typeof type !== "string" || !supported.includes(type)) {
    throw new ModelFileError(
      `Cannot use checkpoint ${dir}: ${configPath} has model_type ${JSON.stringify(type)} ` +
        `(${JSON.stringify(config.architectures ?? null)}); the ${backend} backend serves ` +
        `${supported.join(", ")}${
          backend === "ort" ? " (use policy.backend torch for others)" : ""
        }`,
      configPath,
    );
  }
  checkWeights(dir);
  const vocab = config.vocab_size;
  if (!Number.isInteger(vocab) || (vocab as number) < 1) {
    throw new ModelFileError(
      `Cannot use checkpoint ${dir}: ${configPath} has no integer vocab_size`,
      configPath,
    );
  }
  const tokenizerPath = join(dir, "tokenizer.json");
  const tokenizer = await readJsonObject(
    tokenizerPath,
    "the kit tokenizes with it: save the tokenizer beside the model",
  );
  const top = largestTokenId(tokenizer);
  if (top >= (vocab as number)) {
    throw new ModelFileError(
      `Cannot use checkpoint ${dir}: ${tokenizerPath} has token ids up to ${top}, but ` +
        `${configPath} says vocab_size ${vocab}: the tokenizer belongs to another model`,
      tokenizerPath,
    );
  }
}

/** The weights: model.safetensors, or an index whose every shard exists. */
function checkWeights(dir: string): void {
  const single = join(dir, "model.safetensors");
  if (existsSync(single)) return;
  const indexPath = join(dir, "model.safetensors.index.json");
  if (!existsSync(indexPath)) {
    const other = ["pytorch_model.bin", "model.pt", "consolidated.00.pth"].find((f) =>
      existsSync(join(dir, f))
    );
    throw new ModelFileError(
      `Cannot use checkpoint ${dir}: no ${single} (nor model.safetensors.index.json)` +
        (other
          ? `; ${other} is not read (the kit loads safetensors only: save the model with ` +
            "save_pretrained(..., safe_serialization=True))"
          : ""),
      single,
    );
  }
  let shards: string[];
  try {
    const index = JSON.parse(Deno.readTextFileSync(indexPath));
    shards = [...new Set(Object.values(index.weight_map ?? {}) as string[])];
  } catch (e) {
    throw new ModelFileError(
      `Cannot use checkpoint ${dir}: ${indexPath} is not valid JSON (${(e as Error).message})`,
      indexPath,
    );
  }
  const missing = shards.filter((f) => !existsSync(join(dir, f)));
  if (shards.length === 0 || missing.length > 0) {
    throw new ModelFileError(
      `Cannot use checkpoint ${dir}: ${indexPath} names ${
        shards.length === 0
          ? "no weight files"
          : `missing shards (${missing.slice(0, 3).join(", ")})`
      }`,
      indexPath,
    );
  }
}

/** The largest id of a tokenizer.json: its model's vocabulary and its added tokens. */
function largestTokenId(tokenizer: Record<string, unknown>): number {
  let top = -1;
  const model = tokenizer.model as { vocab?: unknown } | undefined;
  const vocab = model?.vocab;
  if (Array.isArray(vocab)) top = vocab.length - 1; // Unigram: [[piece, score], ...]
  else if (vocab && typeof vocab === "object") {
    for (const id of Object.values(vocab)) if (typeof id === "number" && id > top) top = id;
  }
  for (const t of (tokenizer.added_tokens ?? []) as { id?: number }[]) {
    if (typeof t.id === "number" && t.id > top) top = t.id;
  }
  return top;
}

async function readJsonObject(path: string, missing: string): Promise<Record<string, unknown>> {
  let text: string;
  try {
    text = await Deno.readTextFile(path);
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) {
      throw new ModelFileError(`Cannot use checkpoint: ${path} does not exist (${missing})`, path, {
        cause: e,
      });
    }
    throw new ModelFileError(`Cannot read ${path}: ${(e as Error).message}`, path, { cause: e });
  }
  try {
    const value = JSON.parse(text);
    if (typeof value === "object" && value !== null && !Array.isArray(value)) return value;
  } catch (e) {
    throw new ModelFileError(`Cannot parse ${path}: ${(e as Error).message}`, path, { cause: e });
  }
  throw new ModelFileError(`Cannot use ${path}: expected a JSON object`, path);
}
