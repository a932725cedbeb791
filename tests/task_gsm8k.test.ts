// GSM8K- and MATH-style data for real checkpoints: reading local JSONL, the few-shot prompt (BOS
// only where the tokenizer adds it), and grading responses by token ids (a tiny random Llama
// stands in for the checkpoint; tests/task_real.test.ts uses the real SmolLM2).
import assert from "node:assert/strict";
import { join } from "node:path";
import {
  fewShotPrompt,
  GSM8K_PROMPT,
  gsm8kTask,
  MATH_PROMPT,
  readGsm8kJsonl,
  readMathJsonl,
  TaskPrompts,
} from "../src/tasks/mod.ts";
import { createTinyModel, loadLanguageModel } from "../src/lm/mod.ts";
import { kitPaths } from "../src/paths.ts";
import type { Trainer } from "../src/trainer/client.ts";

const FIXTURE = new URL("./fixtures/gsm8k_tiny.jsonl", import.meta.url).pathname;
const noTrainer = () => Promise.reject(new Error("no trainer in this test")) as Promise<Trainer>;

Deno.test("GSM8K JSONL: reference answers after ####, thousands separators removed", async () => {
  const problems = await readGsm8kJsonl(FIXTURE, "test");
  assert.deepEqual(problems.map((p) => [p.id, p.answer]), [
    ["test-0", "25"],
    ["test-1", "2230"],
    ["test-2", "5"],
  ]);
  assert.match(problems[1].question, /^Ana reads/);
});

Deno.test("GSM8K and MATH JSONL: a bad line names file:line and the field", async () => {
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
  await Deno.writeTextFile(path, '{"problem": "p", "answer": "\\\\frac12"}\n[1]\n');
  await assert.rejects(readMathJsonl(path, "train"), /bad\.jsonl:2: expected a JSON object/);
  await Deno.writeTextFile(path, '{"question": "p", "answer": ""}\n');
  await assert.rejects(readMathJsonl(path, "train"), /bad\.jsonl:1: field 'answer'/);
  await Deno.remove(dir, { recursive: true });
});

Deno.test("MATH JSONL: MATH500 as shipped, and user files with 'question'", async () => {
  const math = await readMathJsonl(join(kitPaths.data, "datasets", "math500_test.jsonl"), "test");
  assert.equal(math.length, 500);
  assert.deepEqual([math[0].id, math[0].answer], ["test-0", "\\left( 3, \\frac{\\pi}{2} \\right)"]);
  const dir = await Deno.makeTempDir();
  await Deno.writeTextFile(join(dir, "t.jsonl"), '{"question": "1+1?", "answer": "2"}\n');
  assert.deepEqual(await readMathJsonl(join(dir, "t.jsonl"), "train"), [
    { id: "train-0", question: "1+1?", answer: "2" },
  ]);
  await Deno.remove(dir, { recursive: true });
});

Deno.test("few-shot prompts end where the model must answer", () => {
  const shot = [{ question: "1+1?", solution: "1+1=2. The answer is 2." }];
  assert.equal(
    fewShotPrompt(GSM8K_PROMPT, shot, "2+2?"),
    "Question: 1+1?\nAnswer: 1+1=2. The answer is 2.\n\nQuestion: 2+2?\nAnswer:",
  );
  assert.equal(
    fewShotPrompt(MATH_PROMPT, [{ question: "1+1?", solution: "$\\boxed{2}$" }], "x?"),
    "Problem: 1+1?\nSolution: $\\boxed{2}$\n\nProblem: x?\nSolution:",
  );
});

Deno.test("the kit's few-shot files: 8 GSM8K examples, 4 MATH ones, in the graded forms", async () => {
  const gsm8k = JSON.parse(await Deno.readTextFile(join(kitPaths.data, "fewshot", "gsm8k.json")));
  const math = JSON.parse(await Deno.readTextFile(join(kitPaths.data, "fewshot", "math.json")));
  assert.equal(gsm8k.length, 8);
  assert.equal(math.length, 4);
  for (const e of gsm8k) assert.match(e.solution, /The answer is -?\d+\.$/);
  for (const e of math) assert.match(e.solution, /\\boxed\{/);
});

Deno.test("few-shot prompts get BOS only from a tokenizer that adds it; grading by ids", async () => {
  const dir = await createTinyModel(await Deno.makeTempDir({ dir: kitPaths.cache }), {
    vocab_size: 64,
  });
  const problems = await readGsm8kJsonl(FIXTURE, "test");
  const build = () =>
    TaskPrompts.build({
      style: "auto", // the tiny tokenizer has no chat template: few-shot
      format: GSM8K_PROMPT,
      examples: [],
      problems,
      modelDir: dir,
      trainer: noTrainer,
    });
  let lm = await loadLanguageModel(dir, { backend: "ort" });
  try {
    const prompts = await build();
    assert.equal(prompts.style, "fewshot");
    const plain = prompts.ids(lm, problems[0]);
    // This tokenizer has no post-processor: the prompt is the text's own tokens, no BOS.
    assert.deepEqual(plain, lm.tokenize(prompts.text(problems[0])));
    assert.notEqual(plain[0], lm.facts.bosTokenId);

    const task = gsm8kTask(prompts);
    const idOf = (text: string) => lm.tokenize(text);
    const graded = await task.grade(lm, [
      { problem: problems[0], responseIds: [...idOf("2"), ...idOf("5")], truncated: false },
      // An empty response (the first sampled token was EOS) is graded, not a crash.
      { problem: problems[0], responseIds: [], truncated: false },
    ]);
    assert.equal(graded[0].tokens.length, 2);
    assert.equal(graded[0].firstError, null, "real data has no oracle");
    assert.equal(graded[0].verdict, "unknown");
    assert.deepEqual([graded[1].answer, graded[1].correct, graded[1].text], [null, false, ""]);

    // A tokenizer whose post-processor adds BOS (as Llama's do): the prompt starts with it.
    await lm.close();
    const path = join(dir, "tokenizer.json");
    const tokenizer = JSON.parse(await Deno.readTextFile(path));
    const bos = lm.facts.bosTokenId!;
    const bosName = tokenizer.added_tokens.find((t: { id: number }) => t.id === bos).content;
    tokenizer.post_processor = {
      type: "TemplateProcessing",
      single: [{ SpecialToken: { id: bosName, type_id: 0 } }, {
        Sequence: { id: "A", type_id: 0 },
      }],
      pair: [{ Sequence: { id: "A", type_id: 0 } }, { Sequence: { id: "B", type_id: 1 } }],
      special_tokens: { [bosName]: { id: bosName, ids: [bos], tokens: [bosName] } },
    };
    await Deno.writeTextFile(path, JSON.stringify(tokenizer));
    lm = await loadLanguageModel(dir, { backend: "ort" });
    assert.deepEqual((await build()).ids(lm, problems[0]), [bos, ...plain]);
  } finally {
    await lm.close();
    await Deno.remove(dir, { recursive: true });
  }
});
