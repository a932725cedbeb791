// The slow cases of the fault matrix (tests/faults/cases.ts): whole smoke runs, interrupted by
// Ctrl-C, kill -9 or a second writer, then resumed. `deno task test-faults` runs them (about
// 10 minutes on 2 cores); they are not part of `deno task ok`.
import assert from "node:assert/strict";
import { CASES, runCase } from "./cases.ts";

for (const c of CASES.filter((c) => c.slow)) {
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
