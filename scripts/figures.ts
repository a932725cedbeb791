/**
 * `deno task figures --run DIR`: rebuilds a finished run's tables, figures and report.md from
 * its stored data (no model is loaded), holding the run directory's lock while it writes.
 * Exits 2 on bad usage, 1 on a failed build.
 *
 * @module
 */
import { runCli, UsageError } from "../src/cli/main.ts";
import { checkOutDir } from "../src/cli/out_dir.ts";
import { buildReport } from "../src/report/mod.ts";
import { closeBrowser } from "../src/plots/static_export.ts";
import { onShutdown } from "../src/cli/shutdown.ts";
import { RunLock } from "../src/run/lock.ts";

await runCli({
  name: "figures",
  usage: "usage: deno task figures --run DIR [--no-png]",
  options: { run: { type: "string" }, "no-png": { type: "boolean" } },
}, async (values) => {
  if (!values.run) throw new UsageError("Cannot build figures: --run DIR is required");
  checkOutDir(values.run, "--run", true);
  // One writer per run directory: a reproduce still writing this run would race the rebuild.
  const lock = await RunLock.acquire(values.run, { note: (line) => console.error(line) });
  onShutdown(() => lock.release());
  try {
    const result = await buildReport(values.run, { png: !values["no-png"] });
    for (const path of result.written) console.log(`wrote ${path}`);
    for (const m of result.inputs.missing) console.log(`missing ${m.artifact}: ${m.reason}`);
  } finally {
    await closeBrowser();
  }
});
