import assert from "node:assert/strict";
import {
  firstError,
  firstErrorInText,
  firstErrorOfIds,
  generateSplits,
  type OracleVerdict,
  pretrainingCorpus,
  resolveWorldParams,
  solutionSlots,
  type WorldProblem,
} from "../src/tasks/mod.ts";

// "mia has 4 7 apples . she finds 1 2 apples . then she lends 9 apples to tom . how many apples
// does mia have ?" by hand: 47 + 12 = 59, 59 - 9 = 50. The canonical solution, token by token:
//  0 start  1 4  2 7  3 .  4 then  5 gain  6 4  7 7  8 +  9 1  10 2  11 =  12 5  13 9  14 .
//  15 so  16 lose  17 5  18 9  19 -  20 9  21 =  22 5  23 0  24 .  25 answer  26 5  27 0
const mia: Pick<WorldProblem, "start" | "steps"> = {
  start: 47,
  steps: [
    { operation: "add", operand: 12, verb: "finds", before: 47, after: 59 },
    { operation: "subtract", operand: 9, verb: "lends", before: 59, after: 50 },
  ],
};
const CANONICAL = "start 4 7 . then gain 4 7 + 1 2 = 5 9 . so lose 5 9 - 9 = 5 0 . answer 5 0";

function verdict(text: string, truncated = false): OracleVerdict {
  return firstErrorInText(mia, text, { truncated });
}

function assertError(text: string, index: number, failure: string) {
  const v = verdict(text);
  assert.equal(v.kind, "error", `${text} -> ${JSON.stringify(v)}`);
  if (v.kind === "error") assert.deepEqual([v.index, v.failure], [index, failure], text);
}

Deno.test("the canonical solution has one slot per token and is correct", () => {
  assert.equal(solutionSlots(mia).length, 28);
  assert.deepEqual(verdict(CANONICAL), { kind: "correct" });
});

Deno.test("connective substitution is not an error", () => {
  assert.deepEqual(verdict(CANONICAL.replace("then", "now").replace("so", "next")), {
    kind: "correct",
  });
});

Deno.test("hand-derived first errors: confusion, operator, operands, copies, arithmetic", () => {
  // Step 2 read as a gain: `lose` at 16 becomes `gain`, and the rest follows the wrong meaning.
  assertError(
    "start 4 7 . then gain 4 7 + 1 2 = 5 9 . so gain 5 9 + 9 = 6 8 . answer 6 8",
    16,
    "confusion",
  );
  // Right meaning, wrong operator symbol at 8.
  assertError(
    "start 4 7 . then gain 4 7 - 1 2 = 3 5 . so lose 3 5 - 9 = 2 6 . answer 2 6",
    8,
    "operator",
  );
  // 47 + 12 written as 58: the first wrong digit is the 8 at 13.
  assertError(
    "start 4 7 . then gain 4 7 + 1 2 = 5 8 . so lose 5 8 - 9 = 4 9 . answer 4 9",
    13,
    "arithmetic",
  );
  // 47 + 12 written as 69: the first wrong digit is the 6 at 12.
  assertError(
    "start 4 7 . then gain 4 7 + 1 2 = 6 9 . so lose 6 9 - 9 = 6 0 . answer 6 0",
    12,
    "arithmetic",
  );
  // A result one digit too long (590): the extra 0 at 14, where `.` was due.
  assertError("start 4 7 . then gain 4 7 + 1 2 = 5 9 0 . so", 14, "arithmetic");
  // A result one digit too short (5): the `.` at 13, where the digit 9 was due.
  assertError("start 4 7 . then gain 4 7 + 1 2 = 5 . so", 13, "arithmetic");
  // The question's 12 miscopied as 13 at 10; the start 47 miscopied as 74 at 1.
  assertError("start 4 7 . then gain 4 7 + 1 3 = 6 0 . so", 10, "operand");
  assertError("start 7 4 . then gain 7 4 + 1 2 = 8 6 .", 1, "operand");
  // The running 59 carried into line 2 as 58: the 8 at 18.
  assertError(
    "start 4 7 . then gain 4 7 + 1 2 = 5 9 . so lose 5 8 - 9 = 4 9 . answer 4 9",
    18,
    "copy",
  );
  // The answer line miscopies 50 as 51: the 1 at 27.
  assertError(
    "start 4 7 . then gain 4 7 + 1 2 = 5 9 . so lose 5 9 - 9 = 5 0 . answer 5 1",
    27,
    "copy",
  );
});

Deno.test("hand-derived first errors around the structure: early end, extra step, extra tokens", () => {
  // `answer` at 15 where the second step's connective was due.
  assertError("start 4 7 . then gain 4 7 + 1 2 = 5 9 . answer 5 9", 15, "early_end");
  // A step without connective: `gain` at 4.
  assertError("start 4 7 . gain 4 7 + 1 2 = 5 9 .", 4, "connective");
  // A third step at 25 where `answer` was due.
  assertError(
    `${CANONICAL.slice(0, CANONICAL.indexOf(" answer"))} then gain 5 0 + 1 = 5 1 .`,
    25,
    "extra_step",
  );
  // Past the answer: another digit makes the answer 500 (copy); anything else is extra.
  assertError(`${CANONICAL} 0`, 28, "copy");
  assertError(`${CANONICAL} .`, 28, "extra_tokens");
  // The response stops after 10 tokens: the end-of-sequence token (index 10) is the error,
  // unless the caller says a length limit cut it.
  const cut = CANONICAL.split(" ").slice(0, 10).join(" ");
  assertError(cut, 10, "early_end");
  assert.equal(verdict(cut, true).kind, "unknown");
  // Stopping inside the answer number writes the answer 5: wrong copy at the end (27).
  assertError(CANONICAL.slice(0, -2), 27, "copy");
  assertError("", 0, "early_end");
});

Deno.test("format violations are unknown, never a guess", () => {
  const cases: [string, number][] = [
    ["hello world", 0],
    ["start 4 7 . then 4 7 + 1 2 = 5 9 .", 5], // a digit where the meaning word was due
    ["start 4 7 . then gain 4 7 = 1 2", 8], // `=` where the operator was due
    ["start 4 7 . then gain + 1 2", 6], // no left number at all
    ["start 4 7 . then gain 4 7 + 1 2 = 5 9 <eos>", 14], // not a world token
    ["start 4 7 . then gain 4 7 + 1 2 = 5 9 . apples", 15],
  ];
  for (const [text, index] of cases) {
    const v = verdict(text);
    assert.equal(v.kind, "unknown", `${text} -> ${JSON.stringify(v)}`);
    if (v.kind === "unknown") assert.equal(v.index, index, text);
  }
});

Deno.test("firstErrorOfIds maps ids through the tokenizer's table", () => {
  const table = [...new Set(CANONICAL.split(" "))];
  const ids = CANONICAL.split(" ").map((t) => table.indexOf(t));
  assert.deepEqual(firstErrorOfIds(mia, ids, (id) => table[id]), { kind: "correct" });
  ids[16] = table.indexOf("gain");
  const v = firstErrorOfIds(mia, ids, (id) => table[id]);
  assert.ok(v.kind === "error" && v.index === 16 && v.failure === "confusion");
});

const params = resolveWorldParams({ pretrainSize: 3000, trainSize: 0, testSize: 0 });
const problems = generateSplits(params, 5).pretrain;

Deno.test("invariant: changing one non-connective token of a canonical solution errs exactly there", () => {
  const alternatives: Record<string, string[]> = {
    meaning: ["gain", "lose", "times", "split"],
    operator: ["+", "-", "*", "/"],
    digit: ["0", "1", "2", "3", "4", "5", "6", "7", "8", "9"],
  };
  const expectedFailure = {
    start: "operand",
    left: "copy",
    operand: "operand",
    result: "arithmetic",
    answer: "copy",
  };
  for (const problem of problems.slice(0, 300)) {
    const tokens = problem.solution.split(" ");
    const slots = solutionSlots(problem);
    slots.forEach((slot, k) => {
      if (slot.type === "connective") {
        for (const c of ["then", "next", "now", "so"]) {
          const changed = tokens.with(k, c);
          assert.deepEqual(firstError(problem, changed), { kind: "correct" });
        }
        return;
      }
      if (slot.type === "word") return; // swapping `.`, `=`, `start`, `answer` breaks the format
      for (const other of alternatives[slot.type].filter((t) => t !== tokens[k])) {
        const v = firstError(problem, tokens.with(k, other));
        assert.equal(v.kind, "error", `${problem.solution} with ${other} at ${k}`);
        if (v.kind !== "error") continue;
        assert.equal(v.index, k);
        const failure: string = slot.type === "meaning"
          ? "confusion"
          : slot.type === "operator"
          ? "operator"
          : expectedFailure[slot.role];
        assert.equal(v.failure, failure);
      }
    });
  }
});

Deno.test("invariant: the verdict depends only on the tokens up to the first error", () => {
  const corpus = pretrainingCorpus(problems, params, 5);
  let checked = 0;
  corpus.records.forEach((record, i) => {
    const tokens = record.response.split(" ");
    const v = firstError(problems[i], tokens);
    if (v.kind !== "error") return;
    checked++;
    const prefix = tokens.slice(0, v.index + 1);
    // Truncate right after the error, or replace everything after it with the canonical tail.
    const variants = [prefix, [...prefix, ...problems[i].solution.split(" ").slice(v.index + 1)]];
    for (const variant of variants) {
      const again = firstError(problems[i], variant);
      assert.deepEqual(again, v, `${record.response} vs ${variant.join(" ")}`);
    }
  });
  assert.ok(checked > 500, `only ${checked} erroneous responses`);
});
