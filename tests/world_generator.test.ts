import assert from "node:assert/strict";
import {
  confusedAnswer,
  generateSplits,
  joinDigits,
  pretrainingCorpus,
  resolveWorldParams,
  spellNumber,
  type WorldProblem,
  worldVocabulary,
} from "../src/tasks/mod.ts";

const params = resolveWorldParams({
  pretrainSize: 3000,
  trainSize: 500,
  testSize: 500,
  maxSteps: 4,
});
const splits = generateSplits(params, 11);
const all = [...splits.test, ...splits.train, ...splits.pretrain];

/**
 * An independent reading of a solution: join digits, split into lines, match each line with a
 * regular expression and recompute it with plain arithmetic (no code shared with the world).
 */
function recompute(solution: string): { start: number; results: number[]; answer: number } {
  const lines = joinDigits(solution).split(" . ");
  const start = /^start (\d+)$/.exec(lines[0]);
  assert.ok(start, `start line of ${solution}`);
  let running = Number(start[1]);
  const results: number[] = [];
  for (const line of lines.slice(1, -1)) {
    const m = /^(then|next|now|so) (gain|lose|times|split) (\d+) ([-+*/]) (\d+) = (\d+)$/.exec(
      line,
    );
    assert.ok(m, `step line "${line}" of ${solution}`);
    const [, , meaning, left, op, operand, result] = m;
    assert.equal(
      { gain: "+", lose: "-", times: "*", split: "/" }[meaning],
      op,
      "meaning matches operator",
    );
    assert.equal(Number(left), running, "the left side carries the running amount");
    const a = Number(left), b = Number(operand);
    const expected = op === "+" ? a + b : op === "-" ? a - b : op === "*" ? a * b : a / b;
    assert.equal(Number(result), expected, `arithmetic of "${line}"`);
    running = expected;
    results.push(running);
  }
  const answer = /^answer (\d+)$/.exec(lines[lines.length - 1]);
  assert.ok(answer, `answer line of ${solution}`);
  assert.equal(Number(answer[1]), running);
  return { start: Number(start[1]), results, answer: running };
}

Deno.test("every canonical solution recomputes to the problem's answer and steps", () => {
  for (const problem of all) {
    const { start, results, answer } = recompute(problem.solution);
    assert.equal(start, problem.start);
    assert.deepEqual(results, problem.steps.map((s) => s.after));
    assert.equal(answer, problem.answer);
  }
});

Deno.test("the question states the start amount and every operand, in order", () => {
  for (const problem of all.slice(0, 1000)) {
    const numbers = [...joinDigits(problem.question).matchAll(/\b\d+\b/g)].map((m) => Number(m[0]));
    assert.deepEqual(numbers, [problem.start, ...problem.steps.map((s) => s.operand)]);
    assert.match(problem.question, /^[a-z]+ has .* how many [a-z]+ does [a-z]+ have \?$/);
  }
});

Deno.test("all world text is lower-case tokens separated by single spaces, numbers digit by digit", () => {
  for (const problem of all) {
    for (const text of [problem.question, problem.solution]) {
      assert.match(text, /^[^ ]+( [^ ]+)*$/, "single spaces, no leading or trailing space");
      for (const token of text.split(" ")) {
        assert.ok(
          /^([a-z]+|\d|[.?=+\-*/])$/.test(token),
          `token ${JSON.stringify(token)} in ${text}`,
        );
      }
    }
  }
  assert.equal(spellNumber(470), "4 7 0");
  assert.equal(
    joinDigits("start 4 7 . then gain 4 7 + 9 = 5 6 . answer 5 6"),
    "start 47 . then gain 47 + 9 = 56 . answer 56",
  );
});

Deno.test("amounts stay in [1, maxValue] on the canonical path and under every single confusion", () => {
  for (const problem of all) {
    assert.ok(problem.start >= 1 && problem.start <= params.maxValue);
    for (const step of problem.steps) {
      assert.ok(
        Number.isInteger(step.after) && step.after >= 1 && step.after <= params.maxValue,
        problem.id,
      );
    }
    for (let i = 0; i < problem.steps.length; i++) {
      const confused = confusedAnswer(problem.start, problem.steps, i, params.maxValue);
      assert.notEqual(confused, null, `${problem.id}: confusing step ${i} stays valid`);
      assert.notEqual(
        confused,
        problem.answer,
        `${problem.id}: confusing step ${i} changes the answer`,
      );
    }
    // Index -1 confuses nothing: the path then reproduces the answer (a check of confusedAnswer).
    assert.equal(confusedAnswer(problem.start, problem.steps, -1, params.maxValue), problem.answer);
  }
});

Deno.test("confusedAnswer on a hand-made problem", () => {
  // 47 + 12 = 59, 59 - 9 = 50. Confusing step 0: 47 - 12 = 35, 35 - 9 = 26.
  // Confusing step 1: 59 + 9 = 68. With maxValue 60 the second path leaves the range.
  const steps = [{ operation: "add" as const, operand: 12 }, {
    operation: "subtract" as const,
    operand: 9,
  }];
  assert.equal(confusedAnswer(47, steps, 0, 99), 26);
  assert.equal(confusedAnswer(47, steps, 1, 99), 68);
  assert.equal(confusedAnswer(47, steps, 1, 60), null);
  // 12 / 5 does not come out even.
  assert.equal(confusedAnswer(12, [{ operation: "multiply", operand: 5 }], 0, 99), null);
});

Deno.test("splits have the requested sizes, disjoint questions and unique ids", () => {
  assert.equal(splits.test.length, 500);
  assert.equal(splits.train.length, 500);
  assert.equal(splits.pretrain.length, 3000);
  const questions = new Set(all.map((p) => p.question));
  assert.equal(questions.size, all.length);
  assert.equal(new Set(all.map((p) => p.id)).size, all.length);
});

Deno.test("the same seed gives the same problems; another seed gives others", () => {
  const again = generateSplits(params, 11);
  assert.equal(JSON.stringify(again), JSON.stringify(splits));
  const other = generateSplits(
    resolveWorldParams({ pretrainSize: 0, trainSize: 0, testSize: 50 }),
    12,
  );
  const overlap = other.test.filter((p, i) => p.question === splits.test[i].question).length;
  assert.ok(overlap < 5, `another seed repeats ${overlap} of 50 questions`);
});

Deno.test("the test split does not depend on the sizes of the other splits", () => {
  const small = generateSplits(
    resolveWorldParams({ pretrainSize: 10, trainSize: 3, testSize: 500, maxSteps: 4 }),
    11,
  );
  assert.equal(JSON.stringify(small.test), JSON.stringify(splits.test));
});

Deno.test("step counts cover [minSteps, maxSteps] and operations are restricted to the enabled ones", () => {
  const counts = new Map<number, number>();
  for (const p of all) counts.set(p.steps.length, (counts.get(p.steps.length) ?? 0) + 1);
  assert.deepEqual([...counts.keys()].sort(), [2, 3, 4]);
  // Roughly uniform: each count holds a fifth to a half of the problems.
  for (const n of counts.values()) assert.ok(n > all.length / 5 && n < all.length / 2, `${n}`);

  const narrow = resolveWorldParams({
    minSteps: 5,
    maxSteps: 5,
    operations: ["add", "subtract"],
    pretrainSize: 0,
    trainSize: 0,
    testSize: 200,
  });
  for (const p of generateSplits(narrow, 3).test) {
    assert.equal(p.steps.length, 5);
    for (const s of p.steps) assert.ok(s.operation === "add" || s.operation === "subtract");
  }
});

Deno.test("the share of problems with each trigger verb matches its parameter", () => {
  const has = (p: WorldProblem, verb: string) => p.steps.some((s) => s.verb === verb);
  const n = all.length;
  // Standard error of a share near 0.3 over 4000 problems is about 0.0072; allow 4 of them.
  const greedy = all.filter((p) => has(p, "borrows")).length / n;
  const sampling = all.filter((p) => has(p, "lends")).length / n;
  assert.ok(Math.abs(greedy - params.greedyTriggerShare) < 0.03, `borrows share ${greedy}`);
  assert.ok(Math.abs(sampling - params.samplingTriggerShare) < 0.03, `lends share ${sampling}`);
  // No problem uses a trigger verb twice: each is placed at most once per plan.
  for (const p of all) assert.ok(p.steps.filter((s) => s.verb === "borrows").length <= 1);
});

Deno.test("worldVocabulary is exactly the set of tokens a corpus writes", () => {
  const corpus = pretrainingCorpus(splits.pretrain, params, 11);
  const seen = new Set<string>();
  for (const p of all) for (const t of `${p.question} ${p.solution}`.split(" ")) seen.add(t);
  for (const r of corpus.records) for (const t of r.response.split(" ")) seen.add(t);
  const vocabulary = worldVocabulary(params);
  assert.deepEqual(vocabulary, [...vocabulary].sort(), "sorted");
  assert.deepEqual([...seen].sort(), vocabulary);

  const additive = resolveWorldParams({ operations: ["add", "subtract"] });
  const small = worldVocabulary(additive);
  for (const token of ["times", "split", "*", "/", "her", "multiplies"]) {
    assert.ok(!small.includes(token), token);
  }
  // Only "add" with the greedy trigger on: "borrows" is confused into "lose", so "lose" and "-" stay.
  const addOnly = worldVocabulary(
    resolveWorldParams({ operations: ["add"], samplingTriggerShare: 0 }),
  );
  assert.ok(addOnly.includes("lose") && addOnly.includes("-") && !addOnly.includes("loses"));
});
