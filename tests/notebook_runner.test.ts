// The notebook runner, driving the real Deno Jupyter kernel through nbclient.
import assert from "node:assert/strict";
import { join } from "node:path";
import { applyParameters, type NotebookJson } from "../src/notebooks/parameters.ts";
import { kitPaths } from "../src/paths.ts";

function notebook(cells: [string, string, string[]?][]): NotebookJson {
  return {
    nbformat: 4,
    nbformat_minor: 5,
    metadata: {
      kernelspec: { name: "cdpo-deno", display_name: "Deno (cdpo-kit)", language: "typescript" },
    },
    cells: cells.map(([cell_type, source, tags], i) => ({
      id: `c${i}`,
      cell_type,
      source,
      metadata: tags ? { tags } : {},
      ...(cell_type === "code" ? { outputs: [], execution_count: null } : {}),
    })),
  };
}

Deno.test("parameters replace only the tagged cell's let lines", () => {
  const nb = notebook([
    [
      "code",
      'let preset = "default"; // which preset\nlet runDir: string | null = null;\nlet other = 1;',
      [
        "parameters",
      ],
    ],
    ["code", 'let preset = "untouched";'],
  ]);
  const out = applyParameters(nb, { preset: "smoke", runDir: "/tmp/run" }, "nb");
  const text = (out.cells[0].source as string[]).join("");
  assert.equal(
    text,
    'let preset = "smoke"; // which preset\nlet runDir: string | null = "/tmp/run";\nlet other = 1;',
  );
  assert.equal(out.cells[1].source, 'let preset = "untouched";');
  assert.throws(
    () => applyParameters(notebook([["code", "1"]]), { preset: "x" }, "nb.ipynb"),
    /nb\.ipynb.*parameters/,
  );
});

Deno.test("the runner executes notebooks and fails naming the notebook and the cell", async () => {
  const dir = await Deno.makeTempDir();
  const out = await Deno.makeTempDir();
  const write = (name: string, nb: NotebookJson) =>
    Deno.writeTextFile(join(dir, name), JSON.stringify(nb));
  await write(
    "01_good.ipynb",
    notebook([["code", 'let preset = "default";', ["parameters"]], ["code", "preset + '!'"]]),
  );
  await write(
    "02_bad.ipynb",
    notebook([["code", 'let preset = "x";', ["parameters"]], ["code", "1 + 1"], [
      "code",
      'throw new Error("cell boom")',
    ]]),
  );
  const run = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", join(kitPaths.root, "scripts", "notebooks.ts"), "--dir", dir, "--out", out],
    stdout: "piped",
    stderr: "piped",
  }).output();
  const stdout = new TextDecoder().decode(run.stdout);
  assert.equal(run.code, 1, stdout);
  assert.match(stdout, /ok {3}01_good\.ipynb/);
  assert.match(stdout, /FAIL 02_bad\.ipynb/);
  assert.match(stdout, /cell 3 failed/);
  assert.match(stdout, /cell boom/);
  assert.match(stdout, /notebooks: 1 passed, 1 failed/);
  // The good notebook ran with the overridden parameter.
  const executed = JSON.parse(await Deno.readTextFile(join(out, "01_good.ipynb")));
  assert.equal([executed.cells[1].outputs[0].data["text/plain"]].flat().join(""), '"smoke!"');
  await Deno.remove(dir, { recursive: true });
  await Deno.remove(out, { recursive: true });
});
