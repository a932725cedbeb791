// The pipeline on the smoke preset, as a user runs it: `reproduce` in a subprocess, real kills
// at several points followed by a rerun, `figures` rebuilding byte-identical outputs, and the
// errors a changed config or a damaged run directory must give.
//
// The uninterrupted reference run is `runs/smoke` (made first by `deno task test`; made here
// when missing).
import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { kitPaths } from "../src/paths.ts";
import { runPaths } from "../src/run/paths.ts";
import { readParquetRows } from "../src/io/parquet.ts";
import { sha256File } from "../src/io/hash.ts";
import { TABLE1_METHODS } from "../src/method/methods.ts";
import { REFERENCE, reproduceCommand } from "./faults/harness.ts";

const script = (name: string) => join(kitPaths.root, "scripts", name);

function reproduceProcess(out: string, extra: string[] = []): Deno.Command {
  return reproduceCommand("smoke", out, extra);
}

async function runToEnd(
  out: string,
  extra: string[] = [],
): Promise<{ code: number; stderr: string }> {
  const res = await reproduceProcess(out, extra).output();
  return {
    code: res.code,
    stderr: new TextDecoder().decode(res.stderr) + new TextDecoder().decode(res.stdout),
  };
}

/** Starts a run and SIGKILLs it as soon as its output contains `marker`. Returns whether it was killed. */
async function runUntil(out: string, marker: RegExp): Promise<boolean> {
  const child = reproduceProcess(out).spawn();
  let text = "";
  let killed = false;
  const decoder = new TextDecoder();
  const readStdout = child.stdout.pipeTo(new WritableStream()); // drain
  for await (const chunk of child.stderr) {
    text += decoder.decode(chunk);
    if (!killed && marker.test(text)) {
      child.kill("SIGKILL");
      killed = true;
    }
  }
  await child.status;
  await readStdout.catch(() => {});
  return killed;
}

/** report.md without the run's name (title and first line) and its stage-timings section. */
function withoutRunFacts(report: string): string {
  return report
    .replace(/^# cdpo-kit report: .*$/m, "# cdpo-kit report")
    .replace(/^run `[^`]*`/m, "run")
    .replace(/^## Stage timings\n[\s\S]*?(?=^## )/m, "");
}

async function ensureReference(): Promise<void> {
  if (existsSync(join(REFERENCE, "report.md"))) return;
  const res = await runToEnd(REFERENCE);
  assert.equal(res.code, 0, res.stderr);
}

/** Every file a run's results consist of, relative path -> sha256. */
async function resultFiles(dir: string): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  for (const sub of ["data", "tables", "figures"]) {
    const folder = join(dir, sub);
    for (const e of [...Deno.readDirSync(folder)].sort((a, b) => a.name.localeCompare(b.name))) {
      if (e.isFile) out.set(`${sub}/${e.name}`, await sha256File(join(folder, e.name)));
    }
  }
  out.set("report.md", await sha256File(join(dir, "report.md")));
  return out;
}

Deno.test({
  name: "a smoke run writes every promised artifact, with the promised columns",
  sanitizeResources: false,
  async fn() {
    await ensureReference();
    const run = runPaths(REFERENCE);
    const manifest = JSON.parse(await Deno.readTextFile(run.manifest));
    for (const key of ["config", "seeds", "git", "environment", "device", "inputs", "stages"]) {
      assert.ok(key in manifest, `manifest.json lacks ${key}`);
    }
    assert.ok(manifest.environment.trainer.torch, "versions recorded");
    assert.ok(manifest.stages.some((s: { name: string }) => s.name === "evaluate"));
    const table1 = (await Deno.readTextFile(run.table1)).trim().split("\n");
    // The smoke preset trains one seed: one per-seed McNemar column.
    assert.equal(table1[0], "method,accuracy,n,ci_low,ci_high,p_value,p_mcnemar_s0");
    assert.deepEqual(table1.slice(1).map((l) => l.split(",")[0]), [...TABLE1_METHODS]);
    const detectors = (await Deno.readTextFile(run.detectors)).trim().split("\n");
    assert.equal(detectors[0], "detector,kind,sample,top1,within1,top3,auroc,n,n_eos");
    // Every detector over every kind, in and out of sample (the smoke preset cross-fits).
    const all = (sample: string) =>
      detectors.slice(1).map((l) => l.split(",")).filter((c) => c[1] === "all" && c[2] === sample)
        .map((c) => c[0]);
    for (const sample of ["in", "out"]) {
      assert.deepEqual(all(sample), [
        "ce_argmin",
        "ce_log_ratio",
        "ce_pos_only",
        "ce_beta_0.25",
        "ce_beta_0.5",
        "ce_beta_2",
        "ce_beta_4",
        "rollout",
        "random",
        "min_policy_prob",
      ]);
    }
    assert.equal(
      (await Deno.readTextFile(run.passkCsv)).split("\n")[0],
      "k,with_critical,without_critical",
    );
    for (const fig of ["fig1", "fig5", "fig6"]) {
      assert.ok(existsSync(run.figure(fig, "html")), `${fig}.html`);
      assert.ok(existsSync(run.figure(fig, "png")), `${fig}.png`);
    }
    // Every test problem is evaluated once per (method, seed).
    const evaluation = readParquetRows<{ method: string }>(run.evaluation);
    const perMethod = new Map<string, number>();
    for (const r of evaluation) perMethod.set(r.method, (perMethod.get(r.method) ?? 0) + 1);
    assert.deepEqual(new Set(perMethod.values()).size, 1, JSON.stringify([...perMethod]));
  },
});

Deno.test({
  name: "figures rebuilds tables, figures and report.md byte for byte from stored data",
  sanitizeResources: false,
  async fn() {
    await ensureReference();
    // The same folder name as the reference: the report names its run by it.
    const dir = join(await Deno.makeTempDir(), "smoke");
    await Deno.mkdir(dir);
    // Copy only what `figures` may read: data/ and manifest.json (no models, no stages).
    await Deno.mkdir(join(dir, "data"));
    for (const e of Deno.readDirSync(join(REFERENCE, "data"))) {
      await Deno.copyFile(join(REFERENCE, "data", e.name), join(dir, "data", e.name));
    }
    await Deno.copyFile(join(REFERENCE, "manifest.json"), join(dir, "manifest.json"));
    const res = await new Deno.Command(Deno.execPath(), {
      args: ["run", "-A", script("figures.ts"), "--run", dir],
      stdout: "piped",
      stderr: "piped",
    }).output();
    assert.equal(res.code, 0, new TextDecoder().decode(res.stderr));
    const rebuilt = await resultFiles(dir);
    const original = await resultFiles(REFERENCE);
    for (const [path, hash] of original) {
      if (path.startsWith("data/")) continue;
      assert.equal(rebuilt.get(path), hash, `${path} differs after figures`);
    }
    await Deno.remove(join(dir, ".."), { recursive: true });
  },
});

Deno.test({
  name: "killing the run at several points and rerunning gives the uninterrupted results",
  sanitizeResources: false,
  async fn() {
    await ensureReference();
    const dir = join(await Deno.makeTempDir(), "run");
    // Kill points: mid-sampling, right after the first fine-tuned model, mid-training of DPO.
    const points = [
      /sample: train trajectories: [1-9]/,
      /stage sft_pos: done/,
      /train: dpo-s0: [1-9]/,
    ];
    const killed: boolean[] = [];
    for (const marker of points) killed.push(await runUntil(dir, marker));
    assert.ok(
      killed.filter(Boolean).length >= 2,
      `the run was killed at ${killed.filter(Boolean).length} points only`,
    );
    const res = await runToEnd(dir);
    assert.equal(res.code, 0, res.stderr);
    const resumed = await resultFiles(dir);
    const original = await resultFiles(REFERENCE);
    assert.deepEqual([...resumed.keys()].sort(), [...original.keys()].sort());
    for (const [path, hash] of original) {
      if (path !== "report.md") {
        assert.equal(resumed.get(path), hash, `${path} differs after kills`);
      }
    }
    // report.md also names the run and lists how long each stage took in the run that computed
    // it: apart from those, it must be the same.
    assert.equal(
      withoutRunFacts(await Deno.readTextFile(join(dir, "report.md"))),
      withoutRunFacts(await Deno.readTextFile(join(REFERENCE, "report.md"))),
    );
    await Deno.remove(join(dir, ".."), { recursive: true });
  },
});

Deno.test({
  name: "a changed config names the stage; a damaged output reruns its stage",
  sanitizeResources: false,
  async fn() {
    await ensureReference();
    const dir = join(await Deno.makeTempDir(), "run");
    // A cheap way to a finished run dir with the reference's stages: copy it.
    await new Deno.Command("cp", { args: ["-r", REFERENCE, dir] }).output();
    const config = join(dir, "..", "changed.json");
    const smoke = JSON.parse(await Deno.readTextFile(join(kitPaths.presets, "smoke.json")));
    smoke.training.steps = smoke.training.steps + 1;
    await Deno.writeTextFile(config, JSON.stringify(smoke));
    const changed = await reproduceCommand(config, dir).output();
    const err = new TextDecoder().decode(changed.stderr);
    assert.equal(changed.code, 1, err);
    assert.match(err, /stage 'train:sft:s0' was made with different inputs/);
    assert.match(err, /training|steps|settings/);
    // Damage a stage output: the stage reruns and restores identical bytes.
    const passk = runPaths(dir).passk;
    const before = await sha256File(passk);
    await Deno.writeTextFile(passk, "not parquet");
    const res = await runToEnd(dir);
    assert.equal(res.code, 0, res.stderr);
    assert.match(res.stderr, /stage rollouts: outputs missing or corrupt, running it again/);
    assert.equal(await sha256File(passk), before);
    await Deno.remove(join(dir, ".."), { recursive: true });
  },
});

Deno.test({
  name:
    "a stage whose code changed is refused naming the file; an older kit's run is named as such",
  sanitizeResources: false,
  async fn() {
    await ensureReference();
    const dir = join(await Deno.makeTempDir(), "run");
    await new Deno.Command("cp", { args: ["-r", REFERENCE, dir] }).output();
    // The record says the rollouts stage ran other code in src/method/rollout_rule.ts (as if the
    // file had been edited since): the stage, which runs that file, must be refused by name.
    const recordPath = runPaths(dir).stageRecord("rollouts");
    const record = JSON.parse(await Deno.readTextFile(recordPath));
    assert.ok("src/method/rollout_rule.ts" in record.inputs.code.modules);
    record.inputs.code.modules["src/method/rollout_rule.ts"] = "0".repeat(64);
    record.key = "0".repeat(64);
    await Deno.writeTextFile(recordPath, JSON.stringify(record));
    const edited = await runToEnd(dir);
    assert.equal(edited.code, 1, edited.stderr);
    assert.match(
      edited.stderr,
      /stage 'rollouts' was made with different inputs \(code: src\/method\/rollout_rule\.ts changed\)/,
    );
    // A record without the current format: made by a kit whose keys ignored code.
    delete record.format;
    await Deno.writeTextFile(recordPath, JSON.stringify(record));
    const older = await runToEnd(dir);
    assert.equal(older.code, 1, older.stderr);
    assert.match(older.stderr, /stage 'rollouts' was recorded by an older cdpo-kit/);
    await Deno.remove(join(dir, ".."), { recursive: true });
  },
});
