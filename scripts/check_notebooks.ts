/**
 * `deno task check-notebooks`: the notebooks' code cells are formatted and type-checked like the
 * rest of the kit, without rewriting the .ipynb files (a notebook stays exactly as Jupyter saved
 * it). Each notebook's code cells are extracted, in order, into one module under
 * .cache/notebook-check/ (imports of ../src/ pointed at the kit) and `deno check`ed; each cell is
 * also formatted on its own and compared with what it holds. `--fix` writes the formatted cells
 * back into the notebooks (only the code cells' sources change).
 *
 *   deno task check-notebooks [--fix] [--dir DIR]
 */
import { parseArgs } from "node:util";
import { join, resolve } from "node:path";
import { kitPaths } from "../src/paths.ts";
import { writeFileAtomic } from "../src/io/atomic.ts";

interface Cell {
  cell_type: string;
  source: string | string[];
}

const { values } = parseArgs({
  args: Deno.args,
  options: {
    fix: { type: "boolean", default: false },
    // Where the notebooks are (tests point this at a scratch folder).
    dir: { type: "string", default: kitPaths.notebooks },
  },
});
const fix = values.fix!;
const dir = resolve(values.dir!);
const out = join(kitPaths.cache, "notebook-check");
await Deno.remove(out, { recursive: true }).catch(() => {});
await Deno.mkdir(out, { recursive: true });
const srcUrl = new URL("../src/", import.meta.url).href;
const text = (c: Cell) => (Array.isArray(c.source) ? c.source.join("") : c.source);

const names = [...Deno.readDirSync(dir)].map((e) => e.name)
  .filter((n) => /^\d\d_.*\.ipynb$/.test(n)).sort();
const problems: string[] = [];
const modules: string[] = [];
for (const name of names) {
  const path = join(dir, name);
  const raw = await Deno.readTextFile(path);
  const notebook = JSON.parse(raw) as { cells: Cell[] };
  const stem = name.replace(/\.ipynb$/, "");
  const code = notebook.cells.map((c, i) => ({ cell: c, index: i + 1 }))
    .filter(({ cell }) => cell.cell_type === "code");
  let changed = false;
  for (const { cell, index } of code) {
    const source = text(cell);
    const formatted = await formatCell(source, `notebooks/${name} cell ${index}`);
    if (formatted === source) continue;
    if (fix) {
      cell.source = formatted.split(/(?<=\n)/);
      changed = true;
    } else {
      problems.push(
        `notebooks/${name}: cell ${index} is not formatted (deno task check-notebooks --fix formats it)`,
      );
    }
  }
  if (changed) {
    // Jupyter's own layout: one-space indent, non-ASCII kept, a final newline.
    await writeFileAtomic(path, JSON.stringify(notebook, null, 1) + "\n");
    console.log(`formatted the code cells of notebooks/${name}`);
  }
  const module = join(out, `${stem}.ts`);
  const body = code.map(({ cell, index }) =>
    `// notebooks/${name}, cell ${index}\n${text(cell).replaceAll('"../src/', `"${srcUrl}`)}\n`
  ).join("\n");
  // An empty export makes the file a module, so top-level await type-checks as in the kernel.
  await Deno.writeTextFile(module, `${body}\nexport {};\n`);
  modules.push(module);
}

const check = await new Deno.Command(Deno.execPath(), {
  args: ["check", ...modules],
  stdout: "piped",
  stderr: "piped",
  env: { NO_COLOR: "1" },
}).output();
if (check.code !== 0) {
  problems.push(
    `type errors in the notebooks' code cells:\n${new TextDecoder().decode(check.stderr).trim()}`,
  );
}
for (const p of problems) console.error(p);
console.log(
  `notebooks: ${names.length} checked (formatting of every code cell, types of each notebook)` +
    (problems.length > 0 ? `; ${problems.length} problem(s)` : ""),
);
if (problems.length > 0) Deno.exit(1);

/** `source` as the kit's formatter writes it (a notebook cell is TypeScript without a final newline). */
async function formatCell(source: string, where: string): Promise<string> {
  const child = new Deno.Command(Deno.execPath(), {
    args: ["fmt", "--ext", "ts", "-"],
    cwd: kitPaths.root,
    stdin: "piped",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const writer = child.stdin.getWriter();
  await writer.write(new TextEncoder().encode(source + "\n"));
  await writer.close();
  const res = await child.output();
  if (res.code !== 0) {
    throw new Error(
      `Cannot format ${where}: ${new TextDecoder().decode(res.stderr).trim().split("\n")[0]}`,
    );
  }
  return new TextDecoder().decode(res.stdout).replace(/\n$/, "");
}
