// Sampling in pieces, on a tiny random Llama (ONNX runtime): problems split into pieces that
// continue the whole request's seeded streams (firstPromptIndex) give the whole request's graded
// trajectories, and a piece's raw samples are kept before grading, so a grading failure never
// costs the sampling.
import assert from "node:assert/strict";
import { createTinyModel, OrtLanguageModel } from "../src/lm/mod.ts";
import { type KeepPiece, sampleGraded, type SampleGradedOptions } from "../src/method/mod.ts";
import { planPieces, SAMPLE_SEED_BLOCK } from "../src/pipeline/stages/sample.ts";
import type { ReasoningTask, TaskProblem } from "../src/tasks/task.ts";
import { tokenTask } from "./fixtures/token_task.ts";

const task = tokenTask("says-nine", (ids) => ids.includes(9), (p) => [2, 5, Number(p.id)]);
const problems: TaskProblem[] = [10, 11, 12, 13, 14, 15, 16].map((k) => ({
  id: String(k),
  question: "",
  answer: 9,
}));
const options: SampleGradedOptions = {
  split: "train",
  n: 3,
  temperature: 1,
  topP: 0.95,
  maxNewTokens: 6,
  seed: 21,
};

Deno.test("sampling: pieces give the whole request's trajectories; raw samples are kept before grading", async () => {
  const dir = await Deno.makeTempDir({ prefix: "sample-pieces-" });
  await createTinyModel(dir, { seed: 5 });
  const lm = await OrtLanguageModel.load(dir, { threads: 1 });
  try {
    const whole = await sampleGraded(lm, task, problems, options);
    assert.equal(whole.length, problems.length * options.n);
    for (const size of [1, 2, 3, 7]) {
      const pieced = [];
      for (let start = 0; start < problems.length; start += size) {
        pieced.push(
          ...await sampleGraded(lm, task, problems.slice(start, start + size), {
            ...options,
            firstPromptIndex: start,
          }),
        );
      }
      assert.deepEqual(pieced, whole, `pieces of ${size} problems`);
    }
    // Without the offset a piece restarts the streams: its samples differ (the offset matters).
    const restarted = await sampleGraded(lm, task, problems.slice(3), options);
    assert.notDeepEqual(
      restarted.map((t) => t.response_ids),
      whole.slice(9).map((t) => t.response_ids),
    );

    const kept = new Map<string, unknown>();
    const keep: KeepPiece = async (key, compute) => {
      const value = await compute();
      kept.set(key, value);
      return value;
    };
    const failing: ReasoningTask = {
      ...task,
      grade: () => Promise.reject(new Error("grader down")),
    };
    await assert.rejects(
      () => sampleGraded(lm, failing, problems, { ...options, keep }),
      /grader down/,
    );
    assert.equal((kept.get("raw") as unknown[]).length, problems.length * options.n);
  } finally {
    await lm.close();
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("sampling pieces: cover every problem once, stay inside seed blocks, hold at most the rows asked", () => {
  for (
    const [count, n, rows] of [[0, 4, 32], [7, 4, 32], [60, 4, 32], [60, 64, 32], [101, 1, 400]]
  ) {
    const pieces = planPieces(count, n, rows);
    const covered = pieces.flatMap((p) =>
      Array.from({ length: p.end - p.start }, (_, i) => p.start + i)
    );
    assert.deepEqual(covered, Array.from({ length: count }, (_, i) => i));
    for (const p of pieces) {
      assert.equal(Math.floor(p.start / SAMPLE_SEED_BLOCK), p.block);
      assert.equal(Math.floor((p.end - 1) / SAMPLE_SEED_BLOCK), p.block);
      assert.ok((p.end - p.start) * n <= Math.max(rows, n), `${p.end - p.start} problems x ${n}`);
    }
  }
});
