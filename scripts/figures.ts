/**
 * `deno task figures --run DIR`: rebuilds a finished run's tables, figures and report.md from
 * its stored data (no model is loaded). Exits 2 on bad usage, 1 on a failed build.
 *
 * @module
 */
import { parseArgs } from "node:util";
import { buildReport } from "../src/report/mod.ts";
import { NotARunDirectoryError } from "../src/run/mod.ts";
import { closeBrowser } from "../src/plots/static_export.ts";

const USAGE = "usage: deno task figures --run DIR [--no-png]";

async function main(): Promise<number> {
  let values: { run?: string; "no-png"?: boolean };
  try {
    ({ values } = parseArgs({
      args: Deno.args,
      options: { run: { type: "string" }, "no-png": { type: "boolean" } },
      strict: true,
    }));
  } catch (e) {
    console.error(`${(e as Error).message}\n${USAGE}`);
    return 2;
  }
  if (!values.run) {
    console.error(`Cannot build figures: --run DIR is required\n${USAGE}`);
    return 2;
  }
  try {
    const result = await buildReport(values.run, { png: !values["no-png"] });
    for (const path of result.written) console.log(`wrote ${path}`);
    for (const m of result.inputs.missing) console.log(`missing ${m.artifact}: ${m.reason}`);
    return 0;
  } catch (e) {
    if (e instanceof NotARunDirectoryError) {
      console.error(e.message);
      return 1;
    }
    throw e;
  } finally {
    await closeBrowser();
  }
}

Deno.exit(await main());
