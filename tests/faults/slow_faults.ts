// The slow cases of the fault matrix (tests/faults/cases.ts): whole smoke runs, interrupted by
// Ctrl-C, kill -9 or a second writer, then resumed. `deno task test-faults` runs them (about
// 10 minutes on 2 cores); they are not part of `deno task ok`.
import { testCases } from "./cases.ts";

testCases((c) => c.slow);
