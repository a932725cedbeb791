// The rollout search cut into pieces, on a tiny random Llama (ONNX runtime): any piece size gives
// the whole search's result (pieces continue the request's seeded streams), and a search stopped
// after a piece resumes from the pieces kept, sampling only what is missing.
import assert from "node:assert/strict";
import { createTinyModel, OrtLanguageModel } from "../src/lm/mod.ts";
import {
  type KeepPiece,
  type RolloutOptions,
  rolloutTrajectory,
  rolloutWork,
  type Trajectory,
} from "../src/method/mod.ts";
import type { TaskProblem } from "../src/tasks/task.ts";
import { tokenTask } from "./fixtures/token_task.ts";

/** Correct when the response says 9 and never 13: after a 13 nothing can repair it. */
const task = tokenTask("nine-not-thirteen", (ids) => ids.includes(9) && !ids.includes(13));
const problem: TaskProblem = { id: "p", question: "", answer: 9 };
const trajectory: Trajectory = {
  trajectory_id: "train/p/0",
  split: "train",
  problem_id: "p",
  sample_index: 0,
  response: "",
  response_ids: "11 12 13 14 15",
  n_tokens: 5,
  answer: null,
  correct: false,
  first_error: 2,
  verdict: "unknown",
  stop_reason: "eos",
};
const base: RolloutOptions = { samples: 6, temperature: 1, topP: 1, maxNewTokens: 8, seed: 3 };

/** A keeper in memory that counts what it computed and can stop the search after `stopAfter` pieces. */
function memoryKeeper(store: Map<string, unknown>, stopAfter = Infinity) {
  let computed = 0;
  const keep: KeepPiece = async (key, compute) => {
    if (store.has(key)) {
      return structuredClone(store.get(key)) as Awaited<ReturnType<typeof compute>>;
    }
    if (computed >= stopAfter) throw new Error("interrupted");
    const value = await compute();
    computed++;
    store.set(key, structuredClone(value));
    return value;
  };
  return { keep, computed: () => computed };
}

Deno.test("rollouts: any piece size gives the whole search; a stopped search resumes from its pieces", async () => {
  const dir = await Deno.makeTempDir({ prefix: "rollouts-" });
  await createTinyModel(dir, { seed: 7 });
  const lm = await OrtLanguageModel.load(dir, { threads: 1 });
  try {
    const whole = await rolloutTrajectory(lm, task, problem, trajectory, base);
    // Six prefixes (lengths 0..5); the ones holding 13 can never end correct.
    assert.equal(whole.rows.length, 6);
    for (const row of whole.rows.slice(3)) assert.equal(row.correctness, 0);
    assert.ok(whole.critical !== null, "the search finds the drop at 13");

    for (const rowsPerPiece of [1, 6, 12, 18, 1000]) {
      const progress: number[] = [];
      const pieced = await rolloutTrajectory(lm, task, problem, trajectory, {
        ...base,
        rowsPerPiece,
        onPiece: (done) => progress.push(done),
      });
      assert.deepEqual(pieced, whole, `rowsPerPiece ${rowsPerPiece}`);
      const perPiece = Math.max(1, Math.floor(rowsPerPiece / base.samples));
      assert.equal(
        progress.length,
        Math.ceil(6 / perPiece) + 1,
        "one report a piece, and the without arm",
      );
      assert.equal(progress.at(-1), rolloutWork(trajectory));
      assert.deepEqual(progress, [...progress].sort((a, b) => a - b), "progress only grows");
    }

    // Stopped after two pieces (prefixes 0-1 and 2-3 sampled and kept), then resumed.
    const store = new Map<string, unknown>();
    const first = memoryKeeper(store, 2);
    await assert.rejects(
      () =>
        rolloutTrajectory(lm, task, problem, trajectory, {
          ...base,
          rowsPerPiece: 12,
          keep: first.keep,
        }),
      /interrupted/,
    );
    assert.deepEqual([...store.keys()], ["with-0-raw", "with-2-raw"]);
    const second = memoryKeeper(store);
    const resumed = await rolloutTrajectory(lm, task, problem, trajectory, {
      ...base,
      rowsPerPiece: 12,
      keep: second.keep,
    });
    assert.deepEqual(resumed, whole);
    assert.equal(second.computed(), 2, "only the last prefixes' piece and the without arm are new");
  } finally {
    await lm.close();
    await Deno.remove(dir, { recursive: true });
  }
});
