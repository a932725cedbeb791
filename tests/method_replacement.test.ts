// Replacing a token and continuing, on a tiny random Llama (ONNX runtime): the alternative is
// drawn at temperature 1 from the next-token distribution with the original token masked out,
// whatever the run's sampling temperature, and the completion keeps the prefix token for token.
import assert from "node:assert/strict";
import { createTinyModel, OrtLanguageModel } from "../src/lm/mod.ts";
import { ALTERNATIVE_TEMPERATURE, correctPerItem, replaceAndContinue } from "../src/method/mod.ts";
import type { TaskProblem } from "../src/tasks/task.ts";
import { tokenTask } from "./fixtures/token_task.ts";

/** A task whose answer is "the response contains token 9" (enough to count correct completions). */
const task = tokenTask("contains-9", (ids) => ids.includes(9));
const problem: TaskProblem = { id: "p", question: "", answer: 9 };

Deno.test("the alternative token follows the masked distribution at temperature 1, not the run's", async () => {
  const dir = await Deno.makeTempDir({ prefix: "replacement-" });
  await createTinyModel(dir, { seed: 7 });
  const lm = await OrtLanguageModel.load(dir, { threads: 1 });
  try {
    const response = [11, 12, 13, 14];
    const position = 2; // keep 11 12, replace 13
    const n = 3000;
    const completions = await replaceAndContinue(lm, task, [{ problem, response, position }], {
      n,
      // A cold run temperature: were it used for the alternative, nearly all mass would sit on
      // one or two tokens.
      temperature: 0.05,
      topP: 0.9,
      maxNewTokens: 6,
      seed: 11,
    });
    assert.equal(completions.length, n);
    // The model's own next-token distribution after prompt + 11 12, masked and renormalised.
    const [row] = await lm.nextTokenDistributions([{ tokens: [2, 5, 6, 11, 12], positions: [4] }]);
    const V = lm.facts.vocabSize;
    const p = Array.from({ length: V }, (_, v) => (v === 13 ? 0 : Math.exp(row[v])));
    const mass = p.reduce((s, x) => s + x, 0);
    const counts = new Array<number>(V).fill(0);
    for (const c of completions) {
      assert.deepEqual(c.response.slice(0, 2), [11, 12], "the prefix is kept");
      assert.notEqual(c.alternative, 13, "the replaced token never comes back");
      counts[c.alternative]++;
    }
    // Each frequency within 4 binomial standard deviations of its probability.
    for (let v = 0; v < V; v++) {
      const q = p[v] / mass;
      const sd = Math.sqrt((q * (1 - q)) / n);
      assert.ok(
        Math.abs(counts[v] / n - q) <= 4 * sd + 1e-3,
        `token ${v}: ${counts[v] / n} vs ${q}`,
      );
    }
    assert.equal(ALTERNATIVE_TEMPERATURE, 1);
    // Grading sees the whole response: counting agrees with the completions' own verdicts.
    assert.deepEqual(correctPerItem(completions, 1), [
      completions.filter((c) => c.response.includes(9)).length,
    ]);
    // Seeded: the same call gives the same completions.
    const again = await replaceAndContinue(lm, task, [{ problem, response, position }], {
      n: 50,
      temperature: 0.05,
      topP: 0.9,
      maxNewTokens: 6,
      seed: 11,
    });
    assert.deepEqual(again, completions.slice(0, 50));
  } finally {
    await lm.close();
    await Deno.remove(dir, { recursive: true });
  }
});
