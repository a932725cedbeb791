import assert from "node:assert/strict";
import { join } from "node:path";
import {
  corpusStats,
  evaluationPrompts,
  generateSplits,
  pretrainingCorpus,
  resolveWorldParams,
  toJsonl,
  writeJsonl,
} from "../src/tasks/mod.ts";

const params = resolveWorldParams({ pretrainSize: 400, trainSize: 50, testSize: 50 });

function corpusBytes(seed: number): string {
  const splits = generateSplits(params, seed);
  return toJsonl(pretrainingCorpus(splits.pretrain, params, seed).records);
}

Deno.test("the same seed gives the same corpus bytes; another seed does not", () => {
  assert.equal(corpusBytes(4), corpusBytes(4));
  assert.notEqual(corpusBytes(4), corpusBytes(5));
});

Deno.test("a corpus record does not change when other problems are added or removed", () => {
  const problems = generateSplits(params, 4).pretrain;
  const whole = pretrainingCorpus(problems, params, 4).records;
  const tail = pretrainingCorpus(problems.slice(200), params, 4).records;
  assert.deepEqual(tail, whole.slice(200));
});

Deno.test("records pair each question with a response; evaluation prompts are clean", () => {
  const splits = generateSplits(params, 4);
  const corpus = pretrainingCorpus(splits.pretrain, params, 4);
  corpus.records.forEach((record, i) => {
    assert.deepEqual(Object.keys(record), ["id", "prompt", "response"]);
    assert.equal(record.prompt, splits.pretrain[i].question);
    assert.match(record.response, /^start .* answer( \d)+$/);
  });
  const items = evaluationPrompts(splits.test);
  assert.equal(items.length, 50);
  assert.deepEqual(items[3], {
    id: splits.test[3].id,
    prompt: splits.test[3].question,
    answer: splits.test[3].answer,
  });
});

Deno.test("writeJsonl writes one parseable line per record and leaves no temporary file", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const records = [{ id: "a", prompt: "p", response: "start 1 . answer 1" }, {
      id: "b",
      prompt: "q",
      response: "r",
    }];
    const path = join(dir, "nested", "corpus.jsonl");
    await writeJsonl(path, records);
    const text = await Deno.readTextFile(path);
    assert.equal(
      text,
      '{"id":"a","prompt":"p","response":"start 1 . answer 1"}\n{"id":"b","prompt":"q","response":"r"}\n',
    );
    assert.deepEqual(text.trimEnd().split("\n").map((line) => JSON.parse(line)), records);
    assert.deepEqual([...Deno.readDirSync(join(dir, "nested"))].map((e) => e.name), [
      "corpus.jsonl",
    ]);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("corpusStats counts world tokens", () => {
  // Prompts of 3 and 5 tokens, responses of 4 and 6: means 4 and 5.
  const stats = corpusStats([
    { prompt: "a b c", response: "start 1 . answer" },
    { prompt: "a b c d e", response: "start 1 2 . answer 1" },
  ]);
  assert.deepEqual(stats, {
    records: 2,
    meanPromptTokens: 4,
    meanResponseTokens: 5,
    maxPromptTokens: 5,
    maxResponseTokens: 6,
  });
  assert.equal(corpusStats([]).meanPromptTokens, 0);
});
