/**
 * `deno task reproduce`: the cDPO pipeline end to end on a preset or a JSON config.
 *
 *   deno task reproduce [--preset smoke|default|FILE.json] [--out DIR] [--force]
 */
import { runCli } from "../src/cli/main.ts";
import { reproduce } from "../src/pipeline/reproduce.ts";
import { closeBrowser } from "../src/plots/static_export.ts";
import { checkOutDir } from "../src/cli/out_dir.ts";

await runCli({
  name: "reproduce",
  usage: "usage: deno task reproduce [--preset smoke|default|FILE.json] [--out DIR] [--force]",
  options: {
    preset: { type: "string", default: "default" },
    out: { type: "string" },
    force: { type: "boolean", default: false },
  },
}, async (values) => {
  if (values.out !== undefined) checkOutDir(values.out, "--out");
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
  } finally {
    await closeBrowser();
  }
});
