/**
 * Runs the trainer's Python tests with the trainer's interpreter and shows pytest's summary.
 *
 *   deno run -A scripts/pytest.ts [pytest args...]
 */
import { kitPaths, trainerPython } from "../src/paths.ts";

const status = await new Deno.Command(trainerPython(), {
  args: ["-m", "pytest", "-q", "-p", "no:cacheprovider", ...Deno.args],
  cwd: kitPaths.trainer,
  env: { PYTHONPATH: kitPaths.trainer, PYTHONUNBUFFERED: "1" },
  stdout: "inherit",
  stderr: "inherit",
}).spawn().status;
Deno.exit(status.code);
