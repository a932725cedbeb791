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
  const sel = selectTrajectories([...t, ...s, ...r, ...q], 0);
  const ids = (xs: GradedTrajectory[]) => xs.map((x) => `${x.problemId}${x.sampleIndex}`);
  assert.deepEqual(ids(sel.positive), ["q0", "s0"]);
  // The negative set takes one member of each of the groups 11 (q), 20 (r), 30 and 31 (t).
  const groupOf = (x: GradedTrajectory) => `${x.problemId}:${x.answer}`;
  assert.deepEqual(sel.negative.map(groupOf), ["q:11", "r:20", "t:30", "t:31"]);
  assert.deepEqual(sel.pairs.map((p) => `${ids([p.chosen])[0]}>${ids([p.rejected])[0]}`), [
    "q0>q3",
  ]);
  // The SFT baseline's data: every correct trajectory.
  assert.deepEqual(ids(sel.correct), ["q0", "q1", "q2", "s0", "s1"]);
  // The same seed draws the same members.
  assert.deepEqual(
    ids(selectTrajectories([...t, ...s, ...r, ...q], 0).negative),
    ids(sel.negative),
  );
});

Deno.test("the negative set is drawn independently of the pairs' rejected trajectories", () => {
  // 400 questions, each with 2 correct samples and one wrong group of 4: the rejected trajectory
  // is the group's first sample; the negative set's member is a seeded draw from the 4, so it
  // is the rejected one about a quarter of the time (binomial sd about 2%), not always.
  const questions = Array.from({ length: 400 }, (_, k) => [
    traj(`p${k}`, 0, "1", true),
    traj(`p${k}`, 1, "1", true),
    ...[2, 3, 4, 5].map((i) => traj(`p${k}`, i, "2", false)),
  ]).flat();
  const sel = selectTrajectories(questions, 7);
  assert.equal(sel.negative.length, 400);
  const rejected = new Set(sel.pairs.map((p) => p.rejected));
  const shared = sel.negative.filter((x) => rejected.has(x)).length / 400;
  assert.ok(shared > 0.18 && shared < 0.32, `shared ${shared}`);
  const other = selectTrajectories(questions, 8).negative;
  assert.ok(other.some((x, i) => x !== sel.negative[i]), "another seed draws other members");
});
