import assert from "node:assert/strict";
import { diagnosticsLines, triggerGroup } from "../src/pipeline/world_diagnostics.ts";

const step = (verb: string) => ({ verb });

Deno.test("a problem's trigger group comes from its verbs", () => {
  assert.equal(triggerGroup({ steps: [step("finds"), step("sells")] as never }), "none");
  assert.equal(
    triggerGroup({ steps: [step("borrows"), step("sells")] as never }),
    "greedy trigger",
  );
  assert.equal(triggerGroup({ steps: [step("lends")] as never }), "sampling trigger");
  assert.equal(triggerGroup({ steps: [step("lends"), step("borrows")] as never }), "both");
});

Deno.test("diagnostics lines give shares of their own totals", () => {
  const lines = diagnosticsLines({
    problems: 4,
    greedy: [{ group: "all", correct: 3, n: 4 }, { group: "none", correct: 2, n: 2 }],
    sampled: { trajectories: 8, correct: 4, firstErrors: [["confusion", 3], ["arithmetic", 1]] },
  });
  assert.deepEqual(lines, [
    "greedy accuracy on 4 validation problems:",
    "  all: 75.0% of 4",
    "  none: 100.0% of 2",
    "sampled: 50.0% of 8 trajectories correct; first errors of the 4 incorrect ones:",
    "  confusion: 75.0% (3)",
    "  arithmetic: 25.0% (1)",
  ]);
});
