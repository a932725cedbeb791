/**
 * Text <-> token ids through a model directory's tokenizer.json (@huggingface/tokenizers).
 * @module
 */
import { Tokenizer } from "@huggingface/tokenizers";
import { ModelFileError } from "./errors.ts";

/** A model's tokenizer. Unknown words map to the unknown token, or fail by name when there is none. */
export class TextTokenizer {
  readonly #tokenizer: Tokenizer;
  readonly #unkId: number | null;

  private constructor(tokenizer: Tokenizer, unkId: number | null) {
    this.#tokenizer = tokenizer;
    this.#unkId = unkId;
  }

  /** Reads `<dir>/tokenizer.json` (and tokenizer_config.json when present). */
  static async load(dir: string): Promise<TextTokenizer> {
    const path = `${dir}/tokenizer.json`;
    const json = await readJson(path);
    const configPath = `${dir}/tokenizer_config.json`;
    const config = await exists(configPath) ? await readJson(configPath) : {};
    let tokenizer: Tokenizer;
    try {
      tokenizer = new Tokenizer(json, config);
    } catch (e) {
      throw new ModelFileError(`Cannot load tokenizer ${path}: ${(e as Error).message}`, path, {
        cause: e,
      });
    }
    // The JS WordLevel model returns undefined for words outside the vocabulary; the unknown
    // token is named by the model section (or the config) and resolved once here.
    const model = (json as { model?: { unk_token?: string } }).model;
    const unkName = model?.unk_token ?? (config as { unk_token?: string }).unk_token;
    const unkId = unkName !== undefined ? tokenizer.token_to_id(unkName) ?? null : null;
    return new TextTokenizer(tokenizer, unkId);
  }

  /**
   * Token ids of `text`. With `addSpecialTokens` the tokenizer's post-processor runs (it adds BOS
   * where the tokenizer says so); without, only the text's own tokens.
   */
  encode(text: string, addSpecialTokens = false): number[] {
    const encoding = this.#tokenizer.encode(text, { add_special_tokens: addSpecialTokens });
    return encoding.ids.map((id, k) => {
      if (id !== undefined && id !== null) return id;
      if (this.#unkId === null) {
        throw new RangeError(
          `Cannot tokenize: word ${
            JSON.stringify(encoding.tokens[k])
          } (token ${k}) is not in the vocabulary and the tokenizer has no unknown token`,
        );
      }
      return this.#unkId;
    });
  }

  /** Text of `ids`, special tokens kept (so a decode shows exactly what was generated). */
  decode(ids: readonly number[]): string {
    // An empty response (a sample whose first token ended it) is empty text; the library itself
    // refuses an empty id list.
    if (ids.length === 0) return "";
    return this.#tokenizer.decode([...ids], { skip_special_tokens: false });
  }
}

async function readJson(path: string): Promise<object> {
  let text: string;
  try {
    text = await Deno.readTextFile(path);
  } catch (e) {
    throw new ModelFileError(`Cannot read ${path}: ${(e as Error).message}`, path, { cause: e });
  }
  try {
    return JSON.parse(text);
  } catch (e) {
    throw new ModelFileError(`Cannot parse ${path}: ${(e as Error).message}`, path, { cause: e });
  }
}

async function exists(path: string): Promise<boolean> {
  try {
    await Deno.stat(path);
    return true;
  } catch {
    return false;
  }
}

export { readJson };
