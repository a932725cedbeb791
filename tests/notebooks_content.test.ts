/**
 * The committed notebooks follow the kit's conventions (clean, parametrised, thin, no machine
 * paths), and the notebook helpers' pure parts give hand-derived answers. Executing the
 * notebooks is `deno task notebooks` (tests/notebook_runner.test.ts covers the runner).
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { kitPaths } from "../src/paths.ts";
import { scoresByRole } from "../src/notebook_helpers/st_by_role.ts";
import { applyParameters, type NotebookJson } from "../src/notebooks/parameters.ts";
import type { TokenScoreRow, TrajectoryRow } from "../src/run/schema.ts";

const NAMES = [
  "00_quickstart.ipynb",
  "01_critical_tokens.ipynb",
  "02_contrastive_estimation.ipynb",
  "03_cdpo_training.ipynb",
  "04_paper_figures.ipynb",
];

interface Cell {
  cell_type: string;
  source: string | string[];
  metadata?: { tags?: string[] };
  outputs?: unknown[];
  execution_count?: number | null;
}

function read(
  name: string,
): NotebookJson & { cells: Cell[]; metadata: { kernelspec: { name: string } } } {
  return JSON.parse(Deno.readTextFileSync(join(kitPaths.notebooks, name)));
}

const text = (c: Cell) => (Array.isArray(c.source) ? c.source.join("") : c.source);

for (const name of NAMES) {
  Deno.test(`${name} is clean, parametrised and thin`, () => {
    const nb = read(name);
    assert.equal(nb.metadata.kernelspec.name, "cdpo-deno");
    const code: Cell[] = nb.cells.filter((c) => c.cell_type === "code");
    for (const c of code) {
      assert.deepEqual(c.outputs, [], `${name}: committed with outputs`);
      assert.equal(c.execution_count, null, `${name}: committed with execution counts`);
      // Absolute paths would tie the notebook to one machine.
      assert.doesNotMatch(text(c), /["'](\/|[A-Z]:\\)/, `${name}: a machine path in ${text(c)}`);
      for (const m of text(c).matchAll(/from\s+"([^"]+)"/g)) {
        assert.match(
          m[1],
          /^\.\.\/src\//,
          `${name}: imports ${m[1]} (notebooks import the kit from ../src)`,
        );
      }
    }
    assert.ok(
      code[0].metadata?.tags?.includes("parameters"),
      `${name}: the first code cell is not tagged parameters`,
    );
    // The runner's overrides must land: a notebook that ignored runDir would silently use the smoke run.
    const set = applyParameters(nb, { preset: "default", runDir: "/x" }, name);
    const params = text(set.cells.find((c) => c.metadata?.tags?.includes("parameters")) as Cell);
    assert.match(params, /let preset = "default";/);
    // Notebooks that open a run take runDir (the quickstart opens none).
    if (/let runDir/.test(text(code[0]))) {
      assert.match(params, /let runDir: string \| null = "\/x";/);
    }
    assert.ok(nb.cells.some((c) => c.cell_type === "markdown"), `${name}: no explanation`);
  });
}

Deno.test("scoresByRole splits tokens at the first error and skips trajectories without one", () => {
  const t = (id: string, firstError: number | null) =>
    ({ trajectory_id: id, first_error: firstError }) as TrajectoryRow;
  const s = (id: string, position: number, s_t: number) =>
    ({ trajectory_id: id, position, s_t }) as TokenScoreRow;
  // a: first error at 1 -> position 0 before, 1 first error, 2 after; b: unknown -> left out.
  const groups = scoresByRole(
    [s("a", 0, 0.9), s("a", 1, 0.01), s("a", 2, 0.2), s("b", 0, 0.5)],
    [t("a", 1), t("b", null)],
  );
  assert.deepEqual(groups, { before: [0.9], first_error: [0.01], after: [0.2] });
});

Deno.test("check-notebooks names an unformatted cell and a type error, and --fix changes only code sources", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const notebook = {
      cells: [
        { cell_type: "markdown", id: "m", metadata: {}, source: ["*kept* as   saved"] },
        {
          cell_type: "code",
          execution_count: null,
          id: "a",
          metadata: { tags: ["parameters"] },
          outputs: [],
          source: ["let n = 1"],
        },
        {
          cell_type: "code",
          execution_count: null,
          id: "b",
          metadata: {},
          outputs: [],
          source: ["n.toFixed(2);"],
        },
      ],
      metadata: { kernelspec: { name: "cdpo-deno" } },
      nbformat: 4,
      nbformat_minor: 5,
    };
    const path = join(dir, "01_x.ipynb");
    const check = (...args: string[]) =>
      new Deno.Command(Deno.execPath(), {
        args: [
          "run",
          "-A",
          join(kitPaths.root, "scripts", "check_notebooks.ts"),
          "--dir",
          dir,
          ...args,
        ],
        stdout: "piped",
        stderr: "piped",
      }).output();
    // A type error in a later cell: the cells are checked together, in order.
    await Deno.writeTextFile(
      path,
      JSON.stringify(
        {
          ...notebook,
          cells: [...notebook.cells, {
            ...notebook.cells[2],
            id: "c",
            source: ["n.toUpperCase();"],
          }],
        },
        null,
        1,
      ) + "\n",
    );
    const bad = await check();
    const err = new TextDecoder().decode(bad.stderr);
    assert.equal(bad.code, 1);
    assert.match(err, /notebooks\/01_x\.ipynb: cell 2 is not formatted/);
    assert.match(err, /Property 'toUpperCase' does not exist on type 'number'/);
    // --fix formats the code cell and leaves everything else exactly as saved.
    await Deno.writeTextFile(path, JSON.stringify(notebook, null, 1) + "\n");
    assert.equal((await check("--fix")).code, 0);
    const fixed = JSON.parse(await Deno.readTextFile(path));
    assert.deepEqual(fixed.cells[1].source, ["let n = 1;"]);
    assert.deepEqual({ ...fixed, cells: [fixed.cells[0], fixed.cells[2]] }, {
      ...notebook,
      cells: [notebook.cells[0], notebook.cells[2]],
    });
    assert.equal((await check()).code, 0);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
