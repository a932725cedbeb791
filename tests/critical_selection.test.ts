import assert from "node:assert/strict";
import {
  type GradedTrajectory,
  groupByAnswer,
  selectTrajectories,
} from "../src/method/selection.ts";

function traj(
  problemId: string,
  sampleIndex: number,
  answer: string | null,
  correct: boolean,
): GradedTrajectory {
  return { problemId, sampleIndex, answer, correct };
}

Deno.test("groups by answer, largest first, ties by earliest sample, unanswerable ignored", () => {
  const g = groupByAnswer([
    traj("p", 3, "7", false),
    traj("p", 1, "5", true),
    traj("p", 2, "7", false),
    traj(
      "p",
      0,
      null,
      false,
    ),
    traj("p", 4, "5", true),
    traj("p", 5, "9", false),
  ]);
  assert.deepEqual(g.map((x) => [x.answer, x.members.map((m) => m.sampleIndex)]), [["5", [1, 4]], [
    "7",
    [2, 3],
  ], [
    "9",
    [5],
  ]]);
});

Deno.test("selection follows method.md section 1 on a hand-made question", () => {
  // Question q: correct answer 10 (3 samples); wrong groups 11 (4 samples), 12 (2), 13 (1), 14 (1).
  // Incorrect total 8: group 11 covers 4 = 50%, so only 11 is taken for the negative set.
  const q = [
    ...[0, 1, 2].map((i) => traj("q", i, "10", true)),
    ...[3, 4, 5, 6].map((i) => traj("q", i, "11", false)),
    traj("q", 7, "12", false),
    traj("q", 8, "12", false),
    traj("q", 9, "13", false),
    traj("q", 10, "14", false),
  ];
  // Question r: only wrong answers 20 (1), 21 (1), 22 (1): the largest is a singleton and is
  // taken; the next singletons are not (33% < 50% but singletons beyond the first are skipped).
  const r = [traj("r", 0, "20", false), traj("r", 1, "21", false), traj("r", 2, "22", false)];
  // Question s: all correct, so a positive but no pair.
  const s = [traj("s", 0, "1", true), traj("s", 1, "1", true)];
  // Question t: wrong groups 30 (2), 31 (2), 32 (1): 2/5 < 50% so 31 is taken too (4/5).
  const t = [
    traj("t", 0, "30", false),
    traj("t", 1, "30", false),
    traj("t", 2, "31", false),
    traj("t", 3, "31", false),
    traj(
      "t",
      4,
      "32",
      false,
    ),
  ];
  const sel = selectTrajectories([...t, ...s, ...r, ...q]);
  const ids = (xs: GradedTrajectory[]) => xs.map((x) => `${x.problemId}${x.sampleIndex}`);
  assert.deepEqual(ids(sel.positive), ["q0", "s0"]);
  assert.deepEqual(ids(sel.negative), ["q3", "r0", "t0", "t2"]);
  assert.deepEqual(sel.pairs.map((p) => `${ids([p.chosen])[0]}>${ids([p.rejected])[0]}`), [
    "q0>q3",
  ]);
});
