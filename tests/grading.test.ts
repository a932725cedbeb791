import assert from "node:assert/strict";
import {
  extractGsm8kAnswer,
  extractWorldAnswer,
  gradeGsm8k,
  gradeWorld,
  gsm8kReferenceAnswer,
} from "../src/tasks/mod.ts";
import { kitPaths } from "../src/paths.ts";

Deno.test("world answers: the digits after the last `answer`", () => {
  assert.equal(extractWorldAnswer("start 4 7 . then gain 4 7 + 3 = 5 0 . answer 5 0"), 50);
  assert.equal(extractWorldAnswer(["answer", "7"]), 7);
  // Several `answer`s: the last one counts.
  assert.equal(extractWorldAnswer("answer 1 2 . answer 3"), 3);
  // Tokens after the digits are ignored; no digit after `answer` or no `answer` gives null.
  assert.equal(extractWorldAnswer("answer 5 0 . then"), 50);
  assert.equal(extractWorldAnswer("start 4 7 . answer"), null);
  assert.equal(extractWorldAnswer("start 4 7 ."), null);
  assert.equal(extractWorldAnswer(""), null);
  assert.ok(gradeWorld("answer 5 0", 50));
  assert.ok(!gradeWorld("answer 5 0 0", 50));
  assert.ok(!gradeWorld("answer", 0));
});

Deno.test("GSM8K answers: the number after the first 'The answer is'", () => {
  assert.equal(extractGsm8kAnswer("3 + 4 = 7. The answer is 7."), "7");
  // Several phrases: the first counts, even when a later one differs.
  assert.equal(extractGsm8kAnswer("The answer is 12. Wait. The answer is 13."), "12");
  // Case does not matter; the number may come after other words.
  assert.equal(extractGsm8kAnswer("so the answer is: $18"), "18");
  // A phrase with no number after it falls back to the last number in the text.
  assert.equal(extractGsm8kAnswer("We get 5 and then 9. The answer is unclear"), "9");
});

Deno.test("GSM8K answers: the last number when there is no phrase", () => {
  assert.equal(extractGsm8kAnswer("She has 3 apples and buys 4 more, 7 in all"), "7");
  assert.equal(extractGsm8kAnswer("no number here"), null);
  assert.equal(extractGsm8kAnswer(""), null);
});

Deno.test("GSM8K answers: $, thousands separators, negatives, decimals", () => {
  assert.equal(extractGsm8kAnswer("The answer is $1,234."), "1234");
  assert.equal(extractGsm8kAnswer("It costs $1,234,567 in total"), "1234567");
  assert.equal(extractGsm8kAnswer("The answer is -5"), "-5");
  assert.equal(extractGsm8kAnswer("The temperature fell to -12.5 degrees"), "-12.5");
  assert.equal(extractGsm8kAnswer("The answer is 0.75"), "0.75");
  assert.equal(extractGsm8kAnswer("half is .5"), ".5");
  // A minus glued to a digit is subtraction, not a sign: 10-3 ends on 3.
  assert.equal(extractGsm8kAnswer("10-3"), "3");
  // A comma that does not group thousands separates list items.
  assert.equal(extractGsm8kAnswer("pick 1, 2"), "2");
  assert.equal(extractGsm8kAnswer("values 12,34"), "34");
  // A sentence-final period is not a decimal point.
  assert.equal(extractGsm8kAnswer("The answer is 18. It is"), "18");
});

Deno.test("reference answers follow ####", () => {
  assert.equal(gsm8kReferenceAnswer("Natalia sold 48/2 = <<48/2=24>>24 clips.\n#### 72"), "72");
  assert.equal(gsm8kReferenceAnswer("#### 1,200"), "1200");
  assert.throws(() => gsm8kReferenceAnswer("no marker 5"), /Cannot read a GSM8K reference answer/);
});

Deno.test("GSM8K comparison is exact, as the release's is_correct compares strings", () => {
  assert.ok(gradeGsm8k("The answer is 72.", "72"));
  assert.ok(gradeGsm8k("The answer is $120,000.", "120000"));
  // 120,006 differs from 120,000 by 5e-5 of it: a 1e-4 relative tolerance would accept it.
  assert.ok(!gradeGsm8k("The answer is 120,006.", "120000"));
  assert.ok(!gradeGsm8k("The answer is 1,235", "1234"));
  // The release compares the answer strings: 72.0 is not the reference "72".
  assert.ok(!gradeGsm8k("The answer is 72.0", "72"));
  assert.ok(!gradeGsm8k("no number", "0"));
  assert.ok(gradeGsm8k("The answer is -3", "-3"));
});

Deno.test("GSM8K references: the kit reads every shipped answer as the release's regex does", async () => {
  // grade_school_math's extract_answer: the text after "#### " matching -?[0-9.,]+, commas removed.
  const release = (field: string) => /#### (-?[0-9.,]+)/.exec(field)![1].replaceAll(",", "");
  for (const split of ["train", "test"]) {
    const lines = (await Deno.readTextFile(`${kitPaths.data}/datasets/gsm8k_${split}.jsonl`)).trim()
      .split(
        "\n",
      );
    for (const [i, line] of lines.entries()) {
      const { answer } = JSON.parse(line);
      assert.equal(gsm8kReferenceAnswer(answer), release(answer), `gsm8k_${split}.jsonl:${i + 1}`);
    }
  }
});
