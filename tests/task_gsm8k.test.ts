// GSM8K-style data for real checkpoints: reading local JSONL, the few-shot prompt, and grading
// a model's response tokens (with a tiny random Llama standing in for the checkpoint).
import assert from "node:assert/strict";
import { join } from "node:path";
import { fewShotPrompt, gsm8kTask, readGsm8kJsonl } from "../src/tasks/gsm8k_task.ts";
import { createTinyModel, loadLanguageModel } from "../src/lm/mod.ts";
import { kitPaths } from "../src/paths.ts";

const FIXTURE = new URL("./fixtures/gsm8k_tiny.jsonl", import.meta.url).pathname;

Deno.test("GSM8K JSONL: reference answers after ####, thousands separators removed", async () => {
  const problems = await readGsm8kJsonl(FIXTURE, "test");
  assert.deepEqual(problems.map((p) => [p.id, p.answer]), [["test-0", 25], ["test-1", 2230], [
    "test-2",
    5,
  ]]);
  assert.match(problems[1].question, /^Ana reads/);
});

Deno.test("GSM8K JSONL: a bad line names file:line and the field", async () => {
  const dir = await Deno.makeTempDir();
  const path = join(dir, "bad.jsonl");
  await Deno.writeTextFile(
    path,
    '{"question": "q", "answer": "#### 1"}\n{"question": "q2", "answer": "no marker"}\n',
  );
  await assert.rejects(readGsm8kJsonl(path, "train"), /bad\.jsonl:2: field 'answer'/);
  await Deno.writeTextFile(path, '{"answer": "#### 1"}\n');
  await assert.rejects(readGsm8kJsonl(path, "train"), /bad\.jsonl:1: field 'question'/);
  await assert.rejects(readGsm8kJsonl(join(dir, "missing.jsonl"), "train"), /missing\.jsonl/);
  await Deno.remove(dir, { recursive: true });
});

Deno.test("the few-shot prompt ends where the model must answer", () => {
  const text = fewShotPrompt([{ question: "1+1?", solution: "1+1=2. The answer is 2." }], "2+2?");
  assert.equal(text, "Question: 1+1?\nAnswer: 1+1=2. The answer is 2.\n\nQuestion: 2+2?\nAnswer:");
});

Deno.test("grading a response by token ids follows the GSM8K convention", async () => {
  const dir = await createTinyModel(await Deno.makeTempDir({ dir: kitPaths.cache }), {
    vocab_size: 64,
  });
  const lm = await loadLanguageModel(dir, { backend: "ort" });
  try {
    const task = gsm8kTask([]);
    const [problem] = await readGsm8kJsonl(FIXTURE, "test");
    // Token ids whose text contains the answer: find ids of the digits 2 and 5 in the vocabulary.
    const idOf = (text: string) => lm.tokenize(text);
    const ids = [...idOf("2"), ...idOf("5")];
    const graded = task.grade(lm, problem, ids, false);
    assert.equal(graded.tokens.length, ids.length);
    assert.equal(graded.firstError, null, "real data has no oracle");
    assert.equal(graded.verdict, "unknown");
    // A response with no number in it has no answer and is wrong.
    const noNumber = [...Array(lm.facts.vocabSize).keys()].filter((id) =>
      !/\d/.test(lm.detokenize([id]))
    ).slice(0, 5);
    const none = task.grade(lm, problem, noNumber, false);
    assert.equal(none.answer, null);
    assert.equal(none.correct, false);
    const prompt = task.promptIds(lm, problem);
    assert.ok(prompt.length > 5);
    assert.equal(prompt[0], lm.facts.bosTokenId ?? prompt[0]);
  } finally {
    await lm.close();
    await Deno.remove(dir, { recursive: true });
  }
});
