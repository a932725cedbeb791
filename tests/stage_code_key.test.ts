// Stage keys cover code: the identity of a stage's TypeScript module graph and of the trainer
// files it runs, computed on a copy of the kit so that files can be edited as a developer would.
import assert from "node:assert/strict";
import { join } from "node:path";
import { kitPaths } from "../src/paths.ts";
import { changedCode, codeIdentity, trainerFiles } from "../src/pipeline/code_identity.ts";
import {
  OlderKitRunError,
  StageMismatchError,
  StageRunner,
  type StageSpec,
} from "../src/pipeline/stage.ts";

/** A copy of the kit's sources (src/, trainer/, deno.json, deno.lock) in a temp folder. */
async function kitCopy(): Promise<{ root: string; trainer: string }> {
  const root = await Deno.makeTempDir({ prefix: "cdpo-kit-copy-" });
  for (const name of ["src", "deno.json", "deno.lock"]) {
    const res = await new Deno.Command("cp", { args: ["-r", join(kitPaths.root, name), root] })
      .output();
    assert.equal(res.code, 0);
  }
  await Deno.mkdir(join(root, "trainer"));
  for (const name of ["cdpo_trainer", "pyproject.toml"]) {
    await new Deno.Command("cp", {
      args: ["-r", join(kitPaths.trainer, name), join(root, "trainer")],
    })
      .output();
  }
  return { root, trainer: join(root, "trainer") };
}

const appendComment = (path: string) =>
  Deno.writeTextFile(path, path.endsWith(".py") ? "\n# a comment\n" : "\n// a comment\n", {
    append: true,
  });

Deno.test("a stage's code identity covers its module graph, and only the trainer files its ops run", async () => {
  const id = await codeIdentity(
    [new URL("../src/pipeline/stages/rollouts.ts", import.meta.url).href],
    ["cdpo_trainer.train.ops"],
  );
  for (const file of ["src/pipeline/stages/rollouts.ts", "src/method/rollout_rule.ts"]) {
    assert.ok(file in id.modules, `${file} is in the graph`);
  }
  assert.ok(id.npm.some((p) => p.startsWith("nodejs-polars@")), "npm versions are recorded");
  const trainer = Object.keys(id.trainer!);
  // The training op runs the losses; it does not run the token selection of the torch backend
  // or the world's pretraining, so editing those must not change a training stage's key.
  assert.ok(trainer.includes("trainer/cdpo_trainer/train/losses.py"));
  assert.ok(trainer.includes("trainer/cdpo_trainer/serve/server.py"));
  assert.ok(!trainer.includes("trainer/cdpo_trainer/lm/select.py"));
  assert.ok(!trainer.includes("trainer/cdpo_trainer/world/pretrain.py"));
  assert.match(id.trainerPins!, /^[0-9a-f]{64}$/);
});

Deno.test("editing a comment in a TypeScript module or a trainer module changes exactly that file's hash", async () => {
  const copy = await kitCopy();
  try {
    const stage = join(copy.root, "src", "pipeline", "stages", "rollouts.ts");
    const before = await codeIdentity([stage], ["cdpo_trainer.train.ops"], copy);
    await appendComment(join(copy.root, "src", "method", "rollout_rule.ts"));
    await appendComment(join(copy.trainer, "cdpo_trainer", "train", "losses.py"));
    // A file outside both closures changes nothing.
    await appendComment(join(copy.trainer, "cdpo_trainer", "lm", "select.py"));
    const after = await codeIdentity([stage], ["cdpo_trainer.train.ops"], copy);
    assert.deepEqual(changedCode(before, after), [
      "src/method/rollout_rule.ts changed",
      "trainer/cdpo_trainer/train/losses.py changed",
    ]);
  } finally {
    await Deno.remove(copy.root, { recursive: true });
  }
});

Deno.test("trainerFiles follows relative, absolute and function-local imports", async () => {
  const root = await Deno.makeTempDir();
  try {
    const pkg = join(root, "cdpo_trainer");
    await Deno.mkdir(join(pkg, "sub"), { recursive: true });
    await Deno.writeTextFile(join(pkg, "__init__.py"), "");
    await Deno.writeTextFile(join(pkg, "sub", "__init__.py"), "");
    await Deno.writeTextFile(
      join(pkg, "sub", "a.py"),
      "from . import b\nfrom cdpo_trainer.sub.c import (\n    f,\n    g,\n)\n\ndef h():\n    from cdpo_trainer import d\n",
    );
    for (const name of ["b", "c"]) await Deno.writeTextFile(join(pkg, "sub", `${name}.py`), "");
    await Deno.writeTextFile(join(pkg, "d.py"), "import cdpo_trainer.e\n");
    await Deno.writeTextFile(join(pkg, "e.py"), "");
    await Deno.writeTextFile(join(pkg, "unused.py"), "");
    const files = trainerFiles(["cdpo_trainer.sub.a"], root).map((f) => f.slice(root.length + 1));
    assert.deepEqual(files, [
      "cdpo_trainer/__init__.py",
      "cdpo_trainer/d.py",
      "cdpo_trainer/e.py",
      "cdpo_trainer/sub/__init__.py",
      "cdpo_trainer/sub/a.py",
      "cdpo_trainer/sub/b.py",
      "cdpo_trainer/sub/c.py",
    ]);
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});

Deno.test("the runner refuses a stage whose code changed, naming the file, and reruns it with force", async () => {
  const root = await Deno.makeTempDir();
  try {
    const module = join(root, "stage_code.ts");
    const helper = join(root, "helper.ts");
    await Deno.writeTextFile(helper, "export const x = 1;\n");
    await Deno.writeTextFile(module, 'import { x } from "./helper.ts";\nexport const y = x;\n');
    const runDir = join(root, "run");
    const output = join(runDir, "out.txt");
    let runs = 0;
    const spec: StageSpec = {
      name: "toy",
      inputs: { a: 1 },
      after: [],
      code: [module],
      outputs: [output],
      run: async () => {
        runs++;
        await Deno.writeTextFile(output, "done");
      },
    };
    assert.equal(await new StageRunner(runDir).run(spec), "ran");
    assert.equal(await new StageRunner(runDir).run(spec), "cached");
    await appendComment(helper);
    await assert.rejects(
      () => new StageRunner(runDir).run(spec),
      (e: Error) => {
        assert.ok(e instanceof StageMismatchError);
        assert.match(
          e.message,
          /stage 'toy' was made with different inputs \(code: .*helper\.ts changed\)/,
        );
        return true;
      },
    );
    assert.equal(await new StageRunner(runDir, { force: true }).run(spec), "ran");
    assert.equal(runs, 2);
    // A record written by an older kit (no format field) is named as such.
    const record = join(runDir, "stages", "toy", "done.json");
    const old = JSON.parse(await Deno.readTextFile(record));
    delete old.format;
    await Deno.writeTextFile(record, JSON.stringify(old));
    await assert.rejects(() => new StageRunner(runDir).run(spec), OlderKitRunError);
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});
