// The fast cases of the fault matrix (tests/faults/cases.ts): each runs the real command in a
// scratch folder and every check of the case must hold. The slow ones (whole pipeline runs,
// interrupted) are `deno task test-faults`.
import assert from "node:assert/strict";
import { CASES, runCase } from "./faults/cases.ts";

for (const c of CASES.filter((c) => !c.slow)) {
  Deno.test({
    name: `fault ${c.id}: ${c.title}`,
    sanitizeResources: false,
    async fn() {
      const outcome = await runCase(c);
      for (const { what, ok, detail } of outcome.checks) {
        assert.ok(ok, `${what}${detail ? ` — ${detail}` : ""}\n(command: ${outcome.command})`);
      }
    },
  });
}
