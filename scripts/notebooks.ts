/**
 * `deno task notebooks`: executes every numbered notebook headlessly through the project's Deno
 * kernel (nbclient), writing the executed notebooks and their HTML to `runs/notebooks/`.
 * A throwing cell fails the task, naming the notebook and the cell.
 *
 *   deno task notebooks [--preset smoke] [--run DIR] [--only 00_quickstart] [--out DIR] [--dir DIR]
 */
import { join, resolve } from "node:path";
import { kitPaths } from "../src/paths.ts";
import { applyParameters, type NotebookJson } from "../src/notebooks/parameters.ts";
import { trainerPython } from "../src/paths.ts";
import { writeFileAtomic } from "../src/io/atomic.ts";
import { installErrorSurface, parseCliArgs } from "../src/cli/main.ts";
import { checkOutDir } from "../src/cli/out_dir.ts";

installErrorSurface("notebooks");
const { values } = parseCliArgs({
  name: "notebooks",
  usage:
    "usage: deno task notebooks [--preset smoke] [--run DIR] [--only 00_quickstart] [--out DIR] [--dir DIR]",
  options: {
    preset: { type: "string", default: "smoke" },
    run: { type: "string" },
    only: { type: "string" },
    out: { type: "string", default: join(kitPaths.runs, "notebooks") },
    // Where the notebooks are (tests point this at a scratch folder).
    dir: { type: "string", default: kitPaths.notebooks },
  },
});
if (values.run !== undefined) checkOutDir(values.run, "--run", true, false);
checkOutDir(values.out!, "--out");

const out = resolve(values.out!);
await Deno.mkdir(out, { recursive: true });
const dir = resolve(values.dir!);
const names = [...Deno.readDirSync(dir)]
  .map((e) => e.name)
  .filter((n) => /^\d\d_.*\.ipynb$/.test(n) && (!values.only || n.startsWith(values.only)))
  .sort();
if (names.length === 0) {
  console.error(
    `notebooks: no numbered notebook matches${values.only ? ` '${values.only}'` : ""} in ${dir}`,
  );
  Deno.exit(1);
}

const overrides: Record<string, string | null> = { preset: values.preset! };
if (values.run) overrides.runDir = resolve(values.run);

let passed = 0, failed = 0;
for (const name of names) {
  const source = JSON.parse(await Deno.readTextFile(join(dir, name))) as NotebookJson;
  const input = join(out, name.replace(/\.ipynb$/, ".input.ipynb"));
  try {
    await writeFileAtomic(input, JSON.stringify(applyParameters(source, overrides, name), null, 1));
  } catch (e) {
    failed++;
    console.log(`FAIL ${name}\n${(e as Error).message}`);
    continue;
  }
  const executed = join(out, name);
  const started = performance.now();
  const result = await new Deno.Command(trainerPython(), {
    args: [
      join(kitPaths.root, "scripts", "execute_notebook.py"),
      input,
      executed,
      "--html",
      executed.replace(/\.ipynb$/, ".html"),
      "--cwd",
      dir,
    ],
    env: { JUPYTER_PATH: kitPaths.jupyterPath, NO_COLOR: "1", PYDEVD_DISABLE_FILE_VALIDATION: "1" },
    stdout: "inherit",
    stderr: "piped",
  }).output();
  const seconds = ((performance.now() - started) / 1000).toFixed(1);
  const stderr = new TextDecoder().decode(result.stderr)
    .split("\n").filter((l) => !l.includes('"deno jupyter" is unstable')).join("\n").trim();
  if (result.code === 0) {
    passed++;
    console.log(`ok   ${name} (${seconds} s)`);
  } else {
    failed++;
    console.log(`FAIL ${name} (${seconds} s)\n${stderr.replaceAll(input, join(dir, name))}`);
  }
  await Deno.remove(input).catch(() => {});
}
console.log(`notebooks: ${passed} passed, ${failed} failed`);
if (failed > 0) Deno.exit(1);
