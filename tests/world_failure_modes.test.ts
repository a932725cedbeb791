import assert from "node:assert/strict";
import { afterTrap } from "../src/tasks/world_task.ts";
import { Random } from "../src/random.ts";
import {
  firstErrorInText,
  generateSplits,
  gradeWorld,
  NOISE_KINDS,
  noisySolution,
  pretrainingCorpus,
  renderSolution,
  resolveWorldParams,
} from "../src/tasks/mod.ts";
import { droppedBorrowResult, droppedCarryResult } from "../src/tasks/world/arithmetic.ts";

Deno.test("dropped carries and borrows, derived column by column", () => {
  // 47 + 15: 7 + 5 = 12, write 2, forget the carry: 4 + 1 = 5 -> 52 (right: 62).
  assert.equal(droppedCarryResult("add", 47, 15), 52);
  // 95 + 15: units carry forgotten, tens 9 + 1 = 10 -> 100 (right: 110).
  assert.equal(droppedCarryResult("add", 95, 15), 100);
  // 45 + 54: no column carries.
  assert.equal(droppedCarryResult("add", 45, 54), null);
  // 23 * 4: 3 * 4 = 12, write 2, forget the 1: 2 * 4 = 8 -> 82 (right: 92).
  assert.equal(droppedCarryResult("multiply", 23, 4), 82);
  // 16 * 6: 6 * 6 = 36, write 6, forget the 3: 1 * 6 = 6 -> 66 (right: 96).
  assert.equal(droppedCarryResult("multiply", 16, 6), 66);
  // 52 - 17: 2 < 7 borrows; forgetting it, 5 - 1 = 4 -> 45 (right: 35).
  assert.equal(droppedBorrowResult(52, 17), 45);
  // 58 - 17: no column borrows.
  assert.equal(droppedBorrowResult(58, 17), null);
  assert.equal(droppedCarryResult("subtract", 52, 17), null);
});

// The delayed trap is off by default; on here so that every failure mode is exercised.
const params = resolveWorldParams({
  pretrainSize: 8000,
  trainSize: 0,
  testSize: 0,
  delayedTrapRate: 0.5,
});
const problems = generateSplits(params, 21).pretrain;
const corpus = pretrainingCorpus(problems, params, 21);

Deno.test("each failure mode fires at its configured rate", () => {
  for (const kind of NOISE_KINDS) {
    const { opportunities, drawn, applied } = corpus.report.tallies[kind];
    const rate = corpus.report.rates[kind].configured;
    const standardError = Math.sqrt((rate * (1 - rate)) / opportunities);
    assert.ok(opportunities > 1000, `${kind}: ${opportunities} opportunities`);
    assert.ok(
      Math.abs(drawn / opportunities - rate) < 4 * standardError,
      `${kind}: drawn ${drawn}/${opportunities}`,
    );
    // A drawn error is dropped only when its path would leave the valid range: rarely.
    assert.ok(
      applied >= 0.8 * drawn && applied <= drawn,
      `${kind}: applied ${applied} of ${drawn}`,
    );
    assert.equal(corpus.report.rates[kind].realised, applied / opportunities);
  }
  const total = corpus.events.filter((e) => e.length > 0).length;
  assert.equal(corpus.report.noisyProblems, total);
});

Deno.test("every written error changes the answer and is the oracle's first error", () => {
  const failureOf = {
    greedy_trigger: "confusion",
    sampling_trigger: "confusion",
    carry_slip: "arithmetic",
    borrow_slip: "arithmetic",
    delayed_trap: "confusion",
  };
  corpus.records.forEach((record, i) => {
    const problem = problems[i];
    const events = corpus.events[i];
    const verdict = firstErrorInText(problem, record.response);
    assert.equal(gradeWorld(record.response, problem.answer), events.length === 0, record.response);
    if (events.length === 0) {
      assert.deepEqual(verdict, { kind: "correct" });
      return;
    }
    assert.equal(verdict.kind, "error");
    if (verdict.kind !== "error") return;
    assert.equal(verdict.failure, failureOf[events[0].kind]);
    // The error lies in the line of the event's step: count the `.` before it (line 0 is `start`).
    const stops = record.response.split(" ").slice(0, verdict.index).filter((t) =>
      t === "."
    ).length;
    assert.equal(stops - 1, events[0].step, record.response);
  });
});

Deno.test("trigger verbs are confused at exactly their rates' extremes", () => {
  const always = resolveWorldParams({
    pretrainSize: 500,
    trainSize: 0,
    testSize: 0,
    greedyTriggerRate: 1,
    samplingTriggerRate: 0,
    carrySlipRate: 0,
    borrowSlipRate: 0,
  });
  const few = generateSplits(always, 2).pretrain;
  const report = pretrainingCorpus(few, always, 2).report;
  // With rate 1 and no other noise, the first confusion is always valid by construction.
  assert.equal(report.tallies.greedy_trigger.applied, report.tallies.greedy_trigger.opportunities);
  assert.equal(report.tallies.sampling_trigger.applied, 0);
  assert.equal(
    report.noisyProblems,
    few.filter((p) => p.steps.some((s) => s.verb === "borrows")).length,
  );

  const never = resolveWorldParams({ ...always, greedyTriggerRate: 0 });
  const clean = pretrainingCorpus(few, never, 2);
  assert.equal(clean.report.noisyProblems, 0);
  clean.records.forEach((r, i) =>
    assert.equal(firstErrorInText(few[i], r.response).kind, "correct")
  );
});

Deno.test("a noisy solution of a borrow step writes `lose` and follows it", () => {
  // 47 + 12 (borrows) with rate 1: written as lose 4 7 - 1 2 = 3 5, then 35 - 9 = 26.
  const problem = {
    id: "hand",
    question: "",
    start: 47,
    steps: [
      { operation: "add" as const, operand: 12, verb: "borrows", before: 47, after: 59 },
      { operation: "subtract" as const, operand: 9, verb: "sells", before: 59, after: 50 },
    ],
    answer: 50,
    solution: "",
  };
  const p = resolveWorldParams({ greedyTriggerRate: 1, carrySlipRate: 0, borrowSlipRate: 0 });
  const noisy = noisySolution(problem, p, new Random(1));
  const text = renderSolution(noisy.solution).split(" ").filter((t) =>
    !["then", "next", "now", "so"].includes(t)
  );
  assert.equal(
    text.join(" "),
    "start 4 7 . lose 4 7 - 1 2 = 3 5 . lose 3 5 - 9 = 2 6 . answer 2 6",
  );
  assert.deepEqual(noisy.events, [{ kind: "greedy_trigger", step: 0 }]);
});

Deno.test("the delayed trap confuses exactly the steps after a line opened with `so`", () => {
  const trap = resolveWorldParams({
    pretrainSize: 1500,
    trainSize: 0,
    testSize: 0,
    greedyTriggerRate: 0,
    samplingTriggerRate: 0,
    carrySlipRate: 0,
    borrowSlipRate: 0,
    delayedTrapRate: 1,
  });
  const few = generateSplits(trap, 4).pretrain;
  const { records, events } = pretrainingCorpus(few, trap, 4);
  let trapped = 0;
  records.forEach((record, i) => {
    // Lines 1.. of the response (line 0 is `start`), each opened by its connective.
    const lines = record.response.split(" . ").slice(1, -1).map((l) => l.split(" "));
    // With rate 1 the first line after a `so` line is confused (a problem's first confusion is
    // always valid); later ones are too unless the path they would take leaves the valid range.
    const steps = lines.flatMap((_, j) => j > 0 && lines[j - 1][0] === "so" ? [j] : []);
    const first = steps[0] ?? -1;
    assert.equal(events[i][0]?.step ?? -1, first, record.response);
    for (const e of events[i]) {
      assert.equal(e.kind, "delayed_trap");
      assert.ok(steps.includes(e.step), record.response);
    }
    if (first >= 0) {
      trapped++;
      const verdict = firstErrorInText(few[i], record.response);
      assert.ok(verdict.kind === "error" && verdict.failure === "confusion");
      const tokens = record.response.split(" ");
      assert.ok(afterTrap(tokens, verdict.index), record.response);
    }
  });
  // `so` opens 10% of lines; with 2-3 steps, some 10-20% of solutions hold a trap.
  assert.ok(trapped > 0.05 * records.length && trapped < 0.3 * records.length, `${trapped}`);
});

Deno.test("afterTrap looks at the connective of the line before the confused one", () => {
  const t = (s: string) => s.split(" ");
  // Token 16 is `lose`, opened by `then`; the line before opened with `so`.
  const trapped = t("start 4 7 . so gain 4 7 + 1 2 = 5 9 . then lose 5 9 - 9 = 5 0 . answer 5 0");
  assert.equal(trapped[16], "lose");
  assert.equal(afterTrap(trapped, 16), true);
  const plain = t("start 4 7 . now gain 4 7 + 1 2 = 5 9 . so lose 5 9 - 9 = 5 0 . answer 5 0");
  assert.equal(afterTrap(plain, 16), false);
  // The first line has no line before it.
  assert.equal(afterTrap(trapped, 5), false);
});
