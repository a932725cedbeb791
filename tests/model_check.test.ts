// Model-directory checks on copies of the shipped policy, damaged the ways the issue found:
// truncated weights and graphs, a tokenizer from another model, a permuted vocabulary, missing
// special tokens, pickled weights; each refused in one line naming the file.
import assert from "node:assert/strict";
import { join } from "node:path";
import { kitPaths, trainerPython } from "../src/paths.ts";
import { checkModelDir, checkSameTokenizer, MODEL_RECORD } from "../src/lm/model_check.ts";
import { readSafetensorsHeader } from "../src/lm/safetensors_header.ts";
import { ModelFileError } from "../src/lm/errors.ts";
import { isUserCaused } from "../src/errors.ts";

const POLICY = join(kitPaths.data, "policy");
const SCRATCH = await Deno.makeTempDir({ prefix: "model-check-" });
let copies = 0;

async function copyPolicy(): Promise<string> {
  const dir = join(SCRATCH, `model-${copies++}`);
  await Deno.mkdir(dir);
  for (const e of Deno.readDirSync(POLICY)) {
    await Deno.copyFile(join(POLICY, e.name), join(dir, e.name));
  }
  return dir;
}

async function refusal(dir: string, backend: "ort" | "torch" = "ort"): Promise<ModelFileError> {
  try {
    await checkModelDir(dir, { backend });
  } catch (e) {
    assert.ok(e instanceof ModelFileError, String(e));
    assert.ok(isUserCaused(e));
    assert.equal(e.message.includes("\n"), false);
    return e;
  }
  throw new Error(`${dir} passed`);
}

async function truncate(path: string, keep: number): Promise<void> {
  const bytes = await Deno.readFile(path);
  await Deno.writeFile(path, bytes.subarray(0, keep));
}

// deno-lint-ignore no-explicit-any
async function editJson(path: string, edit: (x: any) => void): Promise<void> {
  const value = JSON.parse(await Deno.readTextFile(path));
  edit(value);
  await Deno.writeTextFile(path, JSON.stringify(value));
}

Deno.test("the shipped policy passes, with the facts the checks read", async () => {
  const checked = await checkModelDir(POLICY, { backend: "ort" });
  // config.json: vocab_size 99, embed_tokens [99, 128]; the world tokenizer has ids 0..98.
  assert.equal(checked.embeddingRows, 99);
  assert.equal(checked.tokenizerSize, 99);
  assert.equal(checked.maxTokenId, 98);
  assert.equal(checked.recordsTokenizer, true);
});

Deno.test("the safetensors header agrees with the safetensors library", async () => {
  const ours = await readSafetensorsHeader(join(POLICY, "model.safetensors"));
  const code = "import json,sys\nfrom safetensors import safe_open\n" +
    "f = safe_open(sys.argv[1], 'np')\n" +
    "print(json.dumps({k: list(f.get_slice(k).get_shape()) for k in f.keys()}))";
  const out = await new Deno.Command(trainerPython(), {
    args: ["-c", code, join(POLICY, "model.safetensors")],
    stdout: "piped",
  }).output();
  const theirs = JSON.parse(new TextDecoder().decode(out.stdout));
  assert.deepEqual(Object.fromEntries([...ours].map(([k, t]) => [k, t.shape])), theirs);
});

Deno.test("truncated weights are named before any work", async () => {
  const dir = await copyPolicy();
  const path = join(dir, "model.safetensors");
  const size = (await Deno.stat(path)).size;
  await truncate(path, size - 1000);
  const e = await refusal(dir, "torch");
  assert.equal(e.path, path);
  assert.match(e.message, /tensors end at byte \d+ but the file has \d+ bytes \(truncated/);
  await truncate(path, 4);
  assert.match((await refusal(dir, "torch")).message, /too short for a safetensors file/);
});

Deno.test("a truncated ONNX graph is noticed on CPU, whichever graph it is", async () => {
  for (const graph of ["model.onnx", "model.decode.onnx", "model.score.onnx"]) {
    const dir = await copyPolicy();
    const path = join(dir, graph);
    await truncate(path, Math.floor((await Deno.stat(path)).size * 0.6));
    const e = await refusal(dir);
    assert.equal(e.path, path, graph);
    assert.match(e.message, /runs to byte \d+ but the file has \d+ \(truncated\)/);
    // The torch backend never opens the graphs.
    await checkModelDir(dir, { backend: "torch" });
  }
});

Deno.test("a permuted vocabulary is refused by the tokenizer the model recorded", async () => {
  const dir = await copyPolicy();
  await editJson(join(dir, "tokenizer.json"), (t) => {
    const vocab = t.model.vocab as Record<string, number>;
    const [a, b] = Object.keys(vocab).slice(10, 12);
    [vocab[a], vocab[b]] = [vocab[b], vocab[a]];
  });
  const e = await refusal(dir);
  const recorded = JSON.parse(await Deno.readTextFile(join(POLICY, MODEL_RECORD))).tokenizer_sha256;
  assert.match(
    e.message,
    new RegExp(
      `is not the tokenizer this model was trained with \\(${MODEL_RECORD} records ${
        recorded.slice(0, 12)
      }\\)`,
    ),
  );
  // Without the record (a checkpoint from elsewhere) nothing can tell: the check passes.
  await Deno.remove(join(dir, MODEL_RECORD));
  assert.equal((await checkModelDir(dir, { backend: "ort" })).recordsTokenizer, false);
});

Deno.test("a token id beyond the embedding rows names the id and the token", async () => {
  const dir = await copyPolicy();
  await Deno.remove(join(dir, MODEL_RECORD));
  await editJson(join(dir, "tokenizer.json"), (t) => {
    t.added_tokens.push({ id: 99, content: "<extra>", special: true });
  });
  assert.match(
    (await refusal(dir)).message,
    /token id 99 \("<extra>"\) .* outside the model's 99 embedding rows/,
  );
});

Deno.test("special tokens must be tokens of the tokenizer", async () => {
  let dir = await copyPolicy();
  await editJson(join(dir, "generation_config.json"), (g) => (g.eos_token_id = 120));
  assert.match(
    (await refusal(dir)).message,
    /generation_config\.json's eos_token_id 120 is not a token/,
  );
  dir = await copyPolicy();
  await editJson(join(dir, "tokenizer_config.json"), (g) => (g.eos_token = "</s>"));
  assert.match(
    (await refusal(dir)).message,
    /tokenizer_config\.json's eos_token "<\/s>" is not a token/,
  );
});

Deno.test("missing files and pickled weights are refused by name", async () => {
  let dir = await copyPolicy();
  await Deno.remove(join(dir, "tokenizer.json"));
  assert.match((await refusal(dir)).message, /tokenizer\.json is missing/);
  dir = await copyPolicy();
  await Deno.rename(join(dir, "model.safetensors"), join(dir, "pytorch_model.bin"));
  assert.match(
    (await refusal(dir, "torch")).message,
    /\(pytorch_model\.bin\) are not safetensors.*safetensors only/,
  );
  await Deno.remove(join(dir, "model.onnx"));
  assert.match((await refusal(join(dir, "nowhere"))).message, /no such directory/);
  assert.match(
    (await refusal(join(dir, "config.json"))).message,
    /is a file, not a model directory/,
  );
});

Deno.test("an architecture the backend does not serve is named with what it serves", async () => {
  const dir = await copyPolicy();
  const configPath = join(dir, "config.json");
  await editJson(configPath, (c) => (c.model_type = "qwen2"));
  await checkModelDir(dir, { backend: "torch" });
  const e = await refusal(dir, "ort");
  assert.equal(e.path, configPath);
  assert.match(
    e.message,
    /model_type is "qwen2"; the ort backend serves llama \(set policy\.backend/,
  );
  await editJson(configPath, (c) => (c.model_type = "gpt2"));
  assert.match((await refusal(dir, "torch")).message, /"gpt2"; the torch backend serves llama, /);
});

Deno.test("models of a run must share one tokenizer", async () => {
  const a = await checkModelDir(POLICY, { backend: "torch" });
  const dir = await copyPolicy();
  checkSameTokenizer([a, await checkModelDir(dir, { backend: "torch" })]);
  await Deno.remove(join(dir, MODEL_RECORD));
  await editJson(join(dir, "tokenizer.json"), (t) => (t.truncation = { max_length: 8 }));
  const b = await checkModelDir(dir, { backend: "torch" });
  assert.throws(() => checkSameTokenizer([a, b]), /their tokenizer\.json files differ/);
});

Deno.test("(scratch copies removed)", async () => {
  await Deno.remove(SCRATCH, { recursive: true });
});
