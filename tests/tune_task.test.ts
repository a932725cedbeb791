// `deno task tune` as a user runs it, on a small preset with three methods (SFT, DPO starting
// from the best SFT point, and cDPO on the contrastive weights): every point of both grids is trained and scored on the
// validation problems, the best of each is chosen (highest accuracy, ties to the earliest), --write
// puts the choice into the preset with a pointer to the record, and a rerun finds every stage done.
import assert from "node:assert/strict";
import { join } from "node:path";
import { kitPaths } from "../src/paths.ts";
import { bestPoint, tuneGrid, type TunePoint } from "../src/pipeline/stages/tune.ts";

const VALIDATION = 24;

function tune(args: string[]) {
  return new Deno.Command(Deno.execPath(), {
    args: ["task", "tune", ...args],
    cwd: kitPaths.root,
    stdout: "piped",
    stderr: "piped",
  }).output();
}

Deno.test("deno task tune: whole grids on validation, the best point chosen and written, a rerun cached", async () => {
  // Where the task may write (README, "Permissions"): a preset of the kit, a run under .cache.
  const name = `tune-check-${crypto.randomUUID().slice(0, 8)}`;
  const preset = join(kitPaths.presets, `${name}.json`);
  const record = join(kitPaths.data, "tuning", `${name}.json`);
  const out = join(kitPaths.root, ".cache", "tmp", name);
  await Deno.writeTextFile(
    preset,
    JSON.stringify({
      sampling: { problems: 40, perProblem: 4, testPerProblem: 1 },
      rollouts: { trajectories: 0 },
      contrastive: { sftSteps: 4, maxTrajectories: 40, outOfSample: false, weightsFrom: "in" },
      training: {
        seeds: [0],
        steps: 3,
        batchSize: 8,
        heldOutPairs: 0,
        methods: ["sft", "dpo_sft", "cdpo"],
      },
      evaluation: { problems: 20, validationProblems: VALIDATION, bootstrapResamples: 100 },
    }),
  );
  try {
    const first = await tune(["--preset", name, "--out", out, "--write"]);
    const log = new TextDecoder().decode(first.stdout) + new TextDecoder().decode(first.stderr);
    assert.equal(first.code, 0, log);

    const tuning = JSON.parse(await Deno.readTextFile(record));
    assert.equal(tuning.validationProblems, VALIDATION);
    assert.deepEqual(Object.keys(tuning.methods), ["sft", "dpo_sft", "cdpo"]);
    for (const method of ["sft", "dpo_sft", "cdpo"]) {
      const points: TunePoint[] = tuning.methods[method].points;
      assert.equal(points.length, tuneGrid(method).length);
      assert.deepEqual(
        points.map((p) => p.hyper.lr),
        tuneGrid(method).map((g) => g.lr),
        `${method}: every grid point, in grid order`,
      );
      for (const p of points) {
        assert.equal(p.n, VALIDATION);
        assert.equal(p.accuracy, (100 * p.correct) / p.n);
      }
      const best = Math.max(...points.map((p) => p.accuracy));
      const chosen = points.find((p) => p.accuracy === best)!;
      assert.deepEqual(tuning.methods[method].chosen, chosen.hyper);
      assert.deepEqual(bestPoint(points), chosen);
    }
    const written = JSON.parse(await Deno.readTextFile(preset));
    assert.equal(written.training.tuningRecord, `tuning/${name}.json`);
    assert.deepEqual(written.training.hyper.sft, tuning.methods.sft.chosen);
    assert.deepEqual(written.training.hyper.dpo_sft, tuning.methods.dpo_sft.chosen);
    assert.deepEqual(written.training.hyper.cdpo, tuning.methods.cdpo.chosen);
    assert.equal(written.training.steps, 3, "the rest of the preset is kept");

    // The rerun (the preset now names the chosen values, which no point's stage depends on).
    const again = await tune(["--preset", name, "--out", out]);
    const log2 = new TextDecoder().decode(again.stdout) + new TextDecoder().decode(again.stderr);
    assert.equal(again.code, 0, log2);
    assert.doesNotMatch(log2, /stage tune:\S+: done in/, "every point was done earlier");
    assert.match(log2, /stage tune:dpo_sft:\S+: done earlier, skipped/);
  } finally {
    for (const path of [record, preset, out]) {
      await Deno.remove(path, { recursive: true }).catch(() => {});
    }
  }
});
