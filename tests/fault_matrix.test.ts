// The fast cases of the fault matrix (tests/faults/cases.ts): each runs the real command in a
// scratch folder and every check of the case must hold. The slow ones (whole pipeline runs,
// interrupted) are `deno task test-faults`.
import { testCases } from "./faults/cases.ts";

testCases((c) => !c.slow);
