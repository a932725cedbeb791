// A run directory made by an older cdpo-kit (tests/fixtures/old_run, see its README): the
// report and the notebooks open it with this code and say what it lacks; reproduce refuses it
// in one line and leaves it exactly as it was.
import assert from "node:assert/strict";
import { join } from "node:path";
import { buildReport } from "../src/report/mod.ts";
import { readNotebookRun } from "../src/notebook_helpers/notebook_run.ts";
import { detectorView, table1View } from "../src/notebook_helpers/run_views.ts";
import { TableView } from "../src/report/table_view.ts";
import { reproduce } from "../src/pipeline/reproduce.ts";
import { OlderKitRunError } from "../src/pipeline/stage.ts";
import { DEFAULT_RUN_CONFIG } from "../src/run/config.ts";
import { isOlderConfig, upgradeOlderConfig } from "../src/run/older_config.ts";
import { sha256File } from "../src/io/hash.ts";
import { kitPaths } from "../src/paths.ts";
import { reproduceCommand } from "./faults/harness.ts";

const FIXTURE = join(kitPaths.root, "tests", "fixtures", "old_run");

/** A scratch copy of the fixture (tests write tables and figures into it). */
async function copyFixture(): Promise<string> {
  const dir = await Deno.makeTempDir({ prefix: "old-run-" });
  await copyTree(FIXTURE, dir);
  return dir;
}

async function copyTree(from: string, to: string): Promise<void> {
  for await (const e of Deno.readDir(from)) {
    if (e.name === "README.md" && from === FIXTURE) continue;
    if (e.isDirectory) {
      await Deno.mkdir(join(to, e.name));
      await copyTree(join(from, e.name), join(to, e.name));
    } else await Deno.copyFile(join(from, e.name), join(to, e.name));
  }
}

/** Every file under `dir` (relative path -> sha256), and every folder. */
async function listing(dir: string, sub = ""): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  for await (const e of Deno.readDir(join(dir, sub))) {
    const rel = sub ? `${sub}/${e.name}` : e.name;
    if (e.isDirectory) {
      out.set(`${rel}/`, "");
      for (const [k, v] of await listing(dir, rel)) out.set(k, v);
    } else out.set(rel, await sha256File(join(dir, rel)));
  }
  return out;
}

const csvRows = (text: string) => text.trim().split("\n").map((line) => line.split(","));

Deno.test("the report of an older kit's run: its numbers unchanged, what it lacks named", async () => {
  const dir = await copyFixture();
  try {
    // What the older kit itself built from these data.
    const oldTable1 = csvRows(await Deno.readTextFile(join(FIXTURE, "tables", "table1.csv")));
    const oldDetectors = csvRows(await Deno.readTextFile(join(FIXTURE, "tables", "detectors.csv")));
    const { results, figures } = await buildReport(dir, { png: false });

    // Table 1: the older kit's columns, row by row, as it wrote them; per-seed McNemar added.
    const table1 = csvRows(await Deno.readTextFile(join(dir, "tables", "table1.csv")));
    assert.deepEqual(table1[0], [...oldTable1[0], "p_mcnemar_s0"]);
    assert.deepEqual(table1.map((r) => r.slice(0, oldTable1[0].length)), oldTable1);
    assert.deepEqual(table1.find((r) => r[0] === "cdpo")!.slice(0, 3), ["cdpo", "51.67", "60"]);

    // Detectors: in sample only; the older kit's four detectors keep their numbers.
    const detectors = csvRows(await Deno.readTextFile(join(dir, "tables", "detectors.csv")));
    const samples = new Set(detectors.slice(1).map((r) => r[2]));
    assert.deepEqual([...samples], ["in"]);
    assert.ok(!detectors.some((r) => r[0].startsWith("ce_beta_")));
    for (const [name, top1, within1, top3, auroc, n] of oldDetectors.slice(1)) {
      const row = detectors.find((r) => r[0] === name && r[1] === "all" && r[2] === "in");
      assert.ok(row, `no ${name} row`);
      assert.deepEqual([row[3], row[4], row[5], row[6], row[7]], [top1, within1, top3, auroc, n]);
    }
    assert.equal(oldDetectors.find((r) => r[0] === "ce_argmin")![1], "0.3761");

    // Figure 6 falls back to the training batches, as its title says.
    assert.ok(results.logp!.every((c) => c.source === "batch" && c.critical === null));
    assert.match(figures.find((f) => f.name === "fig6")!.title, /training-batch responses/);

    // What is not available, and why.
    assert.deepEqual(results.missing.map((m) => m.artifact), [
      "Detector rows out of sample (sample = out)",
      "Detectors ce_beta_<b> (s_t at other betas)",
      "Figure 6 on held-out pairs, with the rejected critical tokens' curves",
    ]);
    const [outOfSample, sweep, heldOut] = results.missing.map((m) => m.reason);
    assert.match(outOfSample, /has no s_t_out, lp_pos_out, lp_neg_out columns/);
    assert.match(sweep, /data\/ce_beta_sweep\.parquet is absent/);
    assert.match(heldOut, /no eval_logp_chosen, eval_logp_rejected, eval_logp_critical columns/);

    const report = await Deno.readTextFile(join(dir, "report.md"));
    assert.match(
      report,
      /^run `[^`]+` · preset `smoke` · seed 0 · recorded by an older cdpo-kit$/m,
    );
    assert.match(report, /in sample only \(see Missing below\):/);
    assert.match(report, /^- Detector rows out of sample \(sample = out\): /m);
    // The older kit's one set of hyper-parameters, shown by method; it was not tuned.
    assert.match(report, /^\| cDPO \| lr 0\.00005, gamma 1, form sequence \| – \|$/m);
    assert.match(report, /^\| TokenDPO \| lr 0\.00005, beta 0\.1, variant tdpo2 \| – \|$/m);
    assert.match(report, /^Not tuned: these are the config's values/m);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("notebooks open an older kit's run with its own settings", async () => {
  const dir = await copyFixture();
  try {
    const run = readNotebookRun(dir);
    assert.equal(run.olderKit, true);
    const c = run.config;
    // The smoke preset's values as the older kit recorded them, moved to today's keys.
    assert.equal(c.sampling.perProblem, 8);
    assert.equal(c.rollouts.samples, 8);
    assert.equal(c.training.steps, 8);
    assert.equal(c.world.pretrain.steps, 1000);
    assert.deepEqual(c.training.hyper.sft, { lr: 1e-4 });
    assert.deepEqual(c.training.hyper.rpo, { lr: 5e-5, beta: 1, alpha: 1 });
    assert.deepEqual(c.training.hyper.tokendpo, {
      lr: 5e-5,
      beta: 0.1,
      alpha: 0.5,
      variant: "tdpo2",
    });
    // What the older kit did not do is off, not today's default.
    assert.equal(c.contrastive.outOfSample, false);
    assert.equal(c.contrastive.weightsFrom, "in");
    assert.deepEqual(c.contrastive.betaSweep, []);
    assert.equal(c.training.heldOutPairs, 0);
    assert.equal(c.evaluation.validationProblems, 0);
    assert.notEqual(DEFAULT_RUN_CONFIG.evaluation.validationProblems, 0);

    // The sampled problems are the first ones of the train split, as the older kit drew them.
    const { train, validation } = await run.problems();
    assert.equal(train.length, 120);
    assert.equal(validation.length, 0);
    const ids = new Set(train.map((p) => p.id));
    assert.ok(run.data.trajectories!.every((t) => ids.has(t.problem_id)));

    const display = (run as unknown as Record<symbol, () => Record<string, string>>)[
      Symbol.for("Jupyter.display")
    ];
    const shown = display.call(run)["text/plain"];
    assert.match(shown, /finished, recorded by an older cdpo-kit/);
    const detectors = detectorView(run);
    assert.ok(detectors instanceof TableView);
    assert.match(
      detectors.legend,
      /Not available: Detector rows out of sample \(sample = out\): .*s_t_out/,
    );
    assert.ok(table1View(run) instanceof TableView);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("a config in today's layout is not taken for an older kit's", () => {
  assert.equal(isOlderConfig(DEFAULT_RUN_CONFIG), false);
  assert.equal(upgradeOlderConfig(DEFAULT_RUN_CONFIG), DEFAULT_RUN_CONFIG);
  assert.equal(isOlderConfig({ training: { lr: 1e-4 } }), true);
});

Deno.test("reproduce on an older kit's run refuses before writing anything", async () => {
  const dir = await copyFixture();
  try {
    const before = await listing(dir);
    const quiet = { start() {}, update() {}, finish() {}, log() {} };
    await assert.rejects(
      () => reproduce({ preset: "smoke", out: dir, progress: quiet }),
      (e: unknown) => {
        assert.ok(e instanceof OlderKitRunError);
        assert.equal(e.stage, "world");
        assert.doesNotMatch(e.message, /\n/);
        assert.match(e.message, /was recorded by an older cdpo-kit/);
        return true;
      },
    );
    // As the user runs it: one line on stderr, exit status 1.
    const ran = await reproduceCommand("smoke", dir).output();
    const stderr = new TextDecoder().decode(ran.stderr).trim();
    assert.equal(ran.code, 1);
    assert.match(
      stderr,
      /^reproduce: Cannot resume .+: stage 'world' was recorded by an older cdpo-kit, .+--force to recompute\.$/,
    );
    assert.deepEqual(await listing(dir), before);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
