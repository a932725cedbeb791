/**
 * `deno task reproduce`: the cDPO pipeline end to end on a preset or a JSON config.
 *
 *   deno task reproduce [--preset smoke|default|FILE.json] [--out DIR] [--force]
 */
import { parseArgs } from "node:util";
import { reproduce } from "../src/pipeline/reproduce.ts";
import { closeBrowser } from "../src/plots/static_export.ts";
import { ConfigError } from "../src/config/errors.ts";
import { OlderKitRunError, StageMismatchError } from "../src/pipeline/stage.ts";
import { TrainerError } from "../src/trainer/errors.ts";

const { values } = parseArgs({
  args: Deno.args,
  options: {
    preset: { type: "string", default: "default" },
    out: { type: "string" },
    force: { type: "boolean", default: false },
  },
});

const started = performance.now();
try {
  const { runDir } = await reproduce({
    preset: values.preset,
    out: values.out,
    force: values.force,
  });
  console.log(
    `reproduce: finished in ${
      ((performance.now() - started) / 1000).toFixed(0)
    } s; see ${runDir}/report.md`,
  );
} catch (e) {
  if (
    e instanceof ConfigError || e instanceof StageMismatchError || e instanceof OlderKitRunError ||
    e instanceof TrainerError
  ) {
    console.error(`reproduce: ${e.message}`);
    if (e instanceof TrainerError && e.details.traceback) console.error(e.details.traceback);
    Deno.exit(1);
  }
  throw e;
} finally {
  await closeBrowser();
}
