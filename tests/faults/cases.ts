/**
 * The fault matrix of issue #12: every way a careful but hostile user broke a run, as a case
 * that runs the real command in a scratch folder and reports the command, what the user saw,
 * what was left on disk, and checks that must all hold. tests/fault_matrix.test.ts runs the fast
 * cases in `deno task ok`, tests/faults/slow_faults.ts the slow ones (`deno task test-faults`), and
 * tests/faults/write_matrix.ts writes them all to docs/fault-matrix.md.
 *
 * @module
 */
import { existsSync } from "node:fs";
import { join } from "node:path";
import { hostname } from "node:os";
import { kitPaths } from "../../src/paths.ts";
import { runPaths } from "../../src/run/paths.ts";
import { LOCK_FILE } from "../../src/run/lock.ts";
import { readParquetRows, writeParquetAtomic } from "../../src/io/parquet.ts";
import { TABLE_COLUMNS } from "../../src/run/data.ts";
import {
  copyReference,
  describeChanges,
  type Ran,
  REFERENCE,
  sameResultsAsReference,
  Scratch,
  smokeConfig,
  snapshot,
  userLines,
} from "./harness.ts";

/** One check of a case: what must hold, and whether it did. */
export interface Check {
  what: string;
  ok: boolean;
  detail?: string;
}

/** What a case observed. */
export interface Outcome {
  command: string;
  /** What the user saw (stderr, one line per refusal). */
  message: string;
  /** What was left on disk. */
  disk: string;
  checks: Check[];
}

/** One row of the matrix. */
export interface FaultCase {
  id: string;
  /** The item of issue #12 it covers. */
  issue: string;
  title: string;
  slow: boolean;
  run(scratch: Scratch): Promise<Outcome>;
}

const check = (what: string, ok: boolean, detail?: string): Check => ({ what, ok, detail });

/** Checks that `ran` was refused with exactly one line matching `pattern`, exit `code`. */
function oneLine(s: Scratch, ran: Ran, pattern: RegExp, code = 1): Check[] {
  const lines = userLines(s.show(ran.stderr));
  return [
    check(`exit code ${code}`, ran.code === code, `exit ${ran.code}`),
    check("one line on stderr", lines.length === 1, ran.stderr),
    check(`the line says ${pattern}`, pattern.test(lines.at(-1) ?? ""), lines.at(-1)),
    check("no stack trace", !/^\s+at /m.test(ran.stderr), ran.stderr),
  ];
}

function outcome(s: Scratch, ran: Ran, disk: string, checks: Check[]): Outcome {
  return { command: ran.command, message: s.show(userLines(ran.stderr).join("\n")), disk, checks };
}

/** A case whose command is refused before anything is written: `--out` must not come to exist. */
function refusedBeforeWriting(
  id: string,
  issue: string,
  title: string,
  prepare: (s: Scratch) => Promise<string[]>,
  pattern: RegExp,
): FaultCase {
  return {
    id,
    issue,
    title,
    slow: false,
    async run(s) {
      const args = await prepare(s);
      const out = s.path("run");
      const ran = await s.script("reproduce.ts", [...args, "--out", out]);
      return outcome(
        s,
        ran,
        existsSync(out) ? "the run directory was created" : "nothing: $TMP/run was never created",
        [
          ...oneLine(s, ran, pattern),
          check("nothing written: --out does not exist", !existsSync(out)),
        ],
      );
    },
  };
}

/**
 * A case on a copy of the finished run: `prepare` sets the fault up and returns the script and
 * its arguments; the command must be refused in one line and leave every file of the run (the
 * manifest, and a lock file that is not its own) byte for byte as it was.
 */
function refusedOnFinishedRun(
  id: string,
  issue: string,
  title: string,
  prepare: (s: Scratch, run: string) => Promise<[string, string[]]>,
  pattern: RegExp,
): FaultCase {
  return {
    id,
    issue,
    title,
    slow: false,
    async run(s) {
      const run = s.path("run");
      await copyReference(run);
      const [script, args] = await prepare(s, run);
      const before = await snapshot(run);
      const ran = await s.script(script, args);
      const changes = describeChanges(before, await snapshot(run));
      return outcome(s, ran, changes, [
        ...oneLine(s, ran, pattern),
        check("no file of the run changed", changes.startsWith("nothing changed"), changes),
      ]);
    },
  };
}

/** A copy of the shipped policy in the scratch folder, damaged by `damage`. */
async function damagedPolicy(s: Scratch, damage: (dir: string) => Promise<void>): Promise<string> {
  const dir = s.path("policy");
  await Deno.mkdir(dir);
  const shipped = join(kitPaths.data, "policy");
  for (const e of Deno.readDirSync(shipped)) {
    await Deno.copyFile(join(shipped, e.name), join(dir, e.name));
  }
  await damage(dir);
  return dir;
}

async function truncate(path: string, fraction: number): Promise<void> {
  const bytes = await Deno.readFile(path);
  await Deno.writeFile(path, bytes.subarray(0, Math.floor(bytes.length * fraction)));
}

/** A smoke config using `policy` in place of the world's, for the model-file cases. */
async function withPolicy(s: Scratch, policy: string): Promise<string[]> {
  return ["--preset", await smokeConfig(s.path("cfg.json"), (c) => (c.policy = { path: policy }))];
}

/** A GSM8K config whose train split is `content`. */
async function gsm8k(s: Scratch, content: string | Uint8Array): Promise<string[]> {
  const train = s.path("train.jsonl");
  if (typeof content === "string") await Deno.writeTextFile(train, content);
  else await Deno.writeFile(train, content);
  const cfg = await smokeConfig(s.path("gsm8k.json"), (c) => {
    c.task = {
      kind: "gsm8k",
      trainPath: train,
      testPath: join(kitPaths.root, "tests", "fixtures", "gsm8k_tiny.jsonl"),
    };
    c.policy = { path: join(kitPaths.data, "policy") };
  });
  return ["--preset", cfg];
}

/** Reads a child's stderr until `marker` shows; keeps draining it afterwards. Returns the text so far. */
async function stderrUntil(
  child: Deno.ChildProcess,
  marker: RegExp,
): Promise<{ text: string; rest: Promise<string> }> {
  const reader = child.stderr.getReader();
  const dec = new TextDecoder();
  let text = "";
  while (!marker.test(text)) {
    const { value, done } = await reader.read();
    if (done) return { text, rest: Promise.resolve(text) };
    text += dec.decode(value);
  }
  const rest = (async () => {
    let all = text;
    for (;;) {
      const { value, done } = await reader.read();
      if (done) return all;
      all += dec.decode(value);
    }
  })();
  return { text, rest };
}

export const CASES: FaultCase[] = [
  refusedOnFinishedRun(
    "refused-rerun",
    "1",
    "a refused rerun with another preset leaves the finished run as it was",
    async (s, run) => {
      const other = await smokeConfig(s.path("other.json"), (c) => {
        c.sampling.temperature = 0.7;
      });
      return ["reproduce.ts", ["--preset", other, "--out", run]];
    },
    /stage 'sample' was made with different inputs \(setting sampling\.temperature\)\. Use another --out, or --force/,
  ),
  {
    id: "second-writer",
    issue: "2",
    title: "a second reproduce on a run in use stops at once naming the holder",
    slow: false,
    async run(s) {
      const run = s.path("run");
      await copyReference(run);
      const rows = readParquetRows(runPaths(run).metrics).length;
      // The first writer resumes the finished run (every stage cached) and holds the lock
      // while it rebuilds the report.
      const first = s.spawn("reproduce.ts", ["--preset", "smoke", "--out", run]);
      const seen = await stderrUntil(first.child, /stage world: done earlier/);
      const started = performance.now();
      const second = await s.script("reproduce.ts", ["--preset", "smoke", "--out", run]);
      const waited = (performance.now() - started) / 1000;
      const [status, rest] = await Promise.all([
        first.child.status,
        seen.rest,
        first.child.stdout.cancel(),
      ]);
      const after = readParquetRows(runPaths(run).metrics).length;
      return outcome(
        s,
        second,
        `the first run finished (exit ${status.code}); data/metrics.parquet has ${after} rows (was ${rows}); no ${LOCK_FILE} left`,
        [
          ...oneLine(
            s,
            second,
            /^reproduce: Cannot write \$TMP\/run: it is in use by pid \d+ on .* \(reproduce\.ts --preset smoke --out \$TMP\/run\); wait for it to finish/,
          ),
          check("the second stopped at once (under 15 s)", waited < 15, `${waited.toFixed(1)} s`),
          check("the first run finished", status.code === 0, s.show(rest)),
          check("metrics rows unchanged", after === rows, `${after} vs ${rows}`),
          check("the lock is released", !existsSync(join(run, LOCK_FILE))),
        ],
      );
    },
  },
  refusedOnFinishedRun(
    "other-host-lock",
    "2",
    "a lock recorded from another host is obeyed and says how to clear it",
    async (_s, run) => {
      const record = {
        pid: 4242,
        host: `elsewhere-${hostname()}`,
        started: "2026-11-30T00:00:00.000Z",
        command: "reproduce.ts --preset smoke",
      };
      await Deno.writeTextFile(join(run, LOCK_FILE), JSON.stringify(record));
      return ["reproduce.ts", ["--preset", "smoke", "--out", run]];
    },
    /locked by pid 4242 on elsewhere-.*; wait for that run to finish, or, if no such process runs on elsewhere-.* any more, delete \$TMP\/run\/run\.lock$/,
  ),
  {
    id: "empty-table-report",
    issue: "3",
    title: "a table a stage left empty is reported as no data, not as a schema fault",
    slow: false,
    async run(s) {
      const run = s.path("run");
      await copyReference(run);
      await writeParquetAtomic(runPaths(run).rollouts, [], [
        ...TABLE_COLUMNS.rollouts,
        "samples",
        "is_first_error",
      ]);
      const ran = await s.script("figures.ts", ["--run", run, "--no-png"]);
      const report = await Deno.readTextFile(runPaths(run).report);
      const line = report.split("\n").find((l) => l.includes("data/rollouts.parquet")) ?? "";
      return {
        command: ran.command,
        message: s.show(line),
        disk: "report.md lists the rollout detector as missing: its table has no rows",
        checks: [
          check("exit code 0", ran.code === 0, ran.stderr),
          check("report.md says no data", /has no rows \(no data/.test(line), line),
          check("report.md blames no column", !/missing column/.test(report)),
        ],
      };
    },
  },
  {
    id: "no-png-keeps",
    issue: "4",
    title: "figures --no-png keeps the PNGs it does not rebuild",
    slow: false,
    async run(s) {
      const run = s.path("run");
      await copyReference(run);
      const before = await snapshot(join(run, "figures"));
      const ran = await s.script("figures.ts", ["--run", run, "--no-png"]);
      const after = await snapshot(join(run, "figures"));
      const pngs = [...before.keys()].filter((k) => k.endsWith(".png"));
      return {
        command: ran.command,
        message: s.show(userLines(ran.stdout).filter((l) => /png/.test(l)).join("\n")),
        disk: `figures/: ${describeChanges(before, after)}`,
        checks: [
          check("exit code 0", ran.code === 0, ran.stderr),
          check("the reference has PNGs", pngs.length === 3, pngs.join(", ")),
          check("every PNG byte-identical", pngs.every((k) => after.get(k) === before.get(k))),
        ],
      };
    },
  },
  refusedBeforeWriting(
    "repeated-seed",
    "5",
    "training.seeds [0, 0] is refused at its line",
    async (
      s,
    ) => ["--preset", await smokeConfig(s.path("seeds.json"), (c) => (c.training.seeds = [0, 0]))],
    /^reproduce: Cannot use config \$TMP\/seeds\.json:\d+: key 'training\.seeds\[1\]': 0 repeats training\.seeds\[0\]; expected each value once/,
  ),
  refusedBeforeWriting(
    "permuted-tokenizer",
    "6",
    "a tokenizer whose ids were permuted is refused before any work",
    async (s) =>
      withPolicy(
        s,
        await damagedPolicy(s, async (dir) => {
          const path = join(dir, "tokenizer.json");
          const t = JSON.parse(await Deno.readTextFile(path));
          const vocab = t.model.vocab as Record<string, number>;
          const words = Object.keys(vocab).slice(20);
          const ids = words.map((w) => vocab[w]);
          words.forEach((w, i) => (vocab[w] = ids[(i + 1) % ids.length]));
          await Deno.writeTextFile(path, JSON.stringify(t));
        }),
      ),
    /tokenizer\.json \(sha256 \w+\) is not the tokenizer this model was trained with \(cdpo_model\.json records \w+\); put back the tokenizer\.json it was saved with$/,
  ),
  refusedBeforeWriting(
    "truncated-onnx",
    "6",
    "a truncated model.onnx is noticed on CPU",
    async (s) =>
      withPolicy(s, await damagedPolicy(s, (dir) => truncate(join(dir, "model.onnx"), 0.5))),
    /Cannot use \$TMP\/policy\/model\.onnx: field graph runs to byte \d+ but the file has \d+ \(truncated\)/,
  ),
  refusedBeforeWriting(
    "truncated-safetensors",
    "6",
    "a truncated model.safetensors is named before minutes of work",
    async (s) =>
      withPolicy(s, await damagedPolicy(s, (dir) => truncate(join(dir, "model.safetensors"), 0.9))),
    /Cannot use \$TMP\/policy\/model\.safetensors: its tensors end at byte \d+ but the file has \d+ bytes \(truncated/,
  ),
  refusedBeforeWriting(
    "token-beyond-embedding",
    "6, 9",
    "a token id beyond the model's embedding rows is one line",
    async (s) =>
      withPolicy(
        s,
        await damagedPolicy(s, async (dir) => {
          await Deno.remove(join(dir, "cdpo_model.json"));
          const path = join(dir, "tokenizer.json");
          const t = JSON.parse(await Deno.readTextFile(path));
          t.added_tokens.push({ id: 120, content: "<extra>", special: true });
          await Deno.writeTextFile(path, JSON.stringify(t));
        }),
      ),
    /token id 120 \("<extra>"\) of tokenizer\.json is outside the model's 99 embedding rows/,
  ),
  refusedBeforeWriting(
    "gsm8k-null-line",
    "7",
    "a null line in GSM8K data names file:line, before the trainer starts",
    (s) => gsm8k(s, '{"question": "q", "answer": "#### 1"}\nnull\n'),
    /^reproduce: Cannot read \$TMP\/train\.jsonl:2: expected a JSON object on each line, got null$/,
  ),
  refusedBeforeWriting(
    "gsm8k-empty",
    "7",
    "an empty GSM8K file is refused",
    (s) => gsm8k(s, ""),
    /^reproduce: Cannot read \$TMP\/train\.jsonl: the file holds no records \(0 bytes\)/,
  ),
  refusedBeforeWriting(
    "gsm8k-invalid-utf8",
    "7",
    "invalid UTF-8 in GSM8K data names the line and byte offset",
    (s) =>
      gsm8k(
        s,
        new Uint8Array([
          ...new TextEncoder().encode('{"question": "caf'),
          0xe9,
          ...new TextEncoder().encode('", "answer": "#### 1"}\n'),
        ]),
      ),
    /^reproduce: Cannot read \$TMP\/train\.jsonl:1: invalid UTF-8 at byte offset 17; save the file as UTF-8$/,
  ),
  refusedBeforeWriting(
    "min-above-max-steps",
    "8",
    "world.minSteps above maxSteps is refused at its key, with the schema's range",
    async (
      s,
    ) => [
      "--preset",
      await smokeConfig(s.path("steps.json"), (c) => (c.world = { minSteps: 5, maxSteps: 2 })),
    ],
    /key 'world\.maxSteps': world\.minSteps is 5, greater than world\.maxSteps 2; expected world\.minSteps <= world\.maxSteps, both integers in 1\.\.8$/,
  ),
  refusedBeforeWriting(
    "missing-model",
    "9",
    "a missing model directory is one line",
    (s) => withPolicy(s, s.path("no-such-model")),
    /key 'policy\.path': \$TMP\/no-such-model does not exist; expected an existing Hugging Face model directory or \.gguf file$/,
  ),
  {
    id: "unknown-option",
    issue: "9",
    title: "an unknown option prints the usage and exits 2",
    slow: false,
    async run(s) {
      const ran = await s.script("reproduce.ts", ["--bogus"]);
      const lines = userLines(ran.stderr);
      return outcome(s, ran, "nothing", [
        check("exit code 2", ran.code === 2),
        check(
          "the option, then the usage",
          lines.length === 2 && lines[0] === "reproduce: Unknown option '--bogus'" &&
            lines[1].startsWith("usage: deno task reproduce"),
        ),
      ]);
    },
  },
  {
    id: "out-is-a-file",
    issue: "9",
    title: "--out naming a file is one line",
    slow: false,
    async run(s) {
      const file = s.path("notes.txt");
      await Deno.writeTextFile(file, "mine\n");
      const ran = await s.script("reproduce.ts", ["--preset", "smoke", "--out", file]);
      return outcome(
        s,
        ran,
        (await Deno.readTextFile(file)) === "mine\n" ? "the file is untouched" : "the file changed",
        [
          ...oneLine(
            s,
            ran,
            /^reproduce: Cannot use --out \$TMP\/notes\.txt: it is a file; name a directory/,
          ),
          check("the file is untouched", (await Deno.readTextFile(file)) === "mine\n"),
        ],
      );
    },
  },
  refusedOnFinishedRun(
    "corrupt-parquet",
    "9",
    "a corrupt Parquet file in figures is one line naming it",
    async (_s, run) => {
      await Deno.writeTextFile(runPaths(run).evaluation, "not parquet");
      return ["figures.ts", ["--run", run]];
    },
    /^figures: Cannot read \$TMP\/run\/data\/evaluation\.parquet: not a readable Parquet file \(rerun the stage that writes it\)$/,
  ),
  {
    id: "report-title",
    issue: "10",
    title: "report.md's title shows the run name literally",
    slow: false,
    async run(s) {
      const run = s.path("*run* `1` <b>");
      await copyReference(run);
      const ran = await s.script("figures.ts", ["--run", run, "--no-png"]);
      const title = (await Deno.readTextFile(runPaths(run).report)).split("\n")[0];
      return {
        command: s.show(ran.command),
        message: title,
        disk: "report.md rebuilt; its title escaped",
        checks: [
          check("exit code 0", ran.code === 0, ran.stderr),
          check("title escaped", title === "# cdpo-kit report: \\*run\\* \\`1\\` &lt;b&gt;", title),
        ],
      };
    },
  },
  {
    id: "task-permissions",
    issue: "10",
    title:
      "a task may write only runs/ and .cache/, and no task but set-up (and the tests) has -A or the network (beyond this host's engine servers)",
    slow: false,
    async run(s) {
      const ran = await s.task("reproduce", ["--preset", "smoke", "--out", s.path("elsewhere")]);
      const tasks = JSON.parse(await Deno.readTextFile(join(kitPaths.root, "deno.json")))
        .tasks as Record<string, { command: string }>;
      const broad = Object.entries(tasks).filter(([name, t]) =>
        !["setup", "test", "ok", "check-notebooks", "test-faults", "fault-matrix"].includes(name) &&
        // The engine backend may reach its own servers on this host, nothing else.
        / (-A|--allow-all|--allow-net(?!=127\.0\.0\.1 ))\b[^&]*scripts\/(?!setup\.ts)/.test(
          t.command,
        )
      ).map(([name]) => name);
      return outcome(s, ran, "nothing: $TMP/elsewhere was never created", [
        ...oneLine(
          s,
          ran,
          /Cannot use --out \$TMP\/elsewhere: this task may write only under the kit's runs\/ and \.cache\/ folders/,
        ),
        check(
          "no user task runs its script with -A or the network",
          broad.length === 0,
          broad.join(", "),
        ),
        check("nothing written", !existsSync(s.path("elsewhere"))),
      ]);
    },
  },
  // Slow cases: whole pipeline runs, interrupted.
  {
    id: "two-writers-fresh",
    issue: "2",
    title:
      "two reproduce on one fresh --out: one runs, the other stops at once; the result is an uninterrupted run's",
    slow: true,
    async run(s) {
      const run = s.path("run");
      const first = s.spawn("reproduce.ts", ["--preset", "smoke", "--out", run]);
      const seen = await stderrUntil(first.child, /sample: train trajectories: \d/);
      const second = await s.script("reproduce.ts", ["--preset", "smoke", "--out", run]);
      const [status, rest] = await Promise.all([
        first.child.status,
        seen.rest,
        first.child.stdout.cancel(),
      ]);
      const same = await sameResultsAsReference(run);
      const rows = readParquetRows(runPaths(run).metrics).length;
      return outcome(
        s,
        second,
        `the first run finished (exit ${status.code}); ${same.detail}; data/metrics.parquet ${rows} rows`,
        [
          ...oneLine(s, second, /Cannot write \$TMP\/run: it is in use by pid \d+/),
          check("the first run finished", status.code === 0, s.show(rest.slice(-2000))),
          check("results identical to the reference", same.ok, same.detail),
          check(
            "metrics rows as the reference",
            rows === readParquetRows(runPaths(REFERENCE).metrics).length,
          ),
        ],
      );
    },
  },
  {
    id: "ctrl-c-resume",
    issue: "kill/resume",
    title:
      "Ctrl-C (SIGINT) mid-training exits 130 and releases the lock; a rerun resumes to identical results",
    slow: true,
    async run(s) {
      const run = s.path("run");
      const first = s.spawn("reproduce.ts", ["--preset", "smoke", "--out", run]);
      const seen = await stderrUntil(first.child, /train: dpo-s0: [1-9]/);
      first.child.kill("SIGINT");
      const [status, text] = await Promise.all([
        first.child.status,
        seen.rest,
        first.child.stdout.cancel(),
      ]);
      const lockLeft = existsSync(join(run, LOCK_FILE));
      const manifest = JSON.parse(await Deno.readTextFile(runPaths(run).manifest));
      const rerun = await s.script("reproduce.ts", ["--preset", "smoke", "--out", run]);
      const same = await sameResultsAsReference(run);
      const last = userLines(text).at(-1) ?? "";
      return {
        command: `${first.command}, Ctrl-C during train: dpo-s0, then the same command again`,
        message: s.show(last),
        disk:
          `after Ctrl-C: no ${LOCK_FILE}, manifest.json finished ${manifest.finished}; after the rerun: ${same.detail}`,
        checks: [
          check("exit code 130", status.code === 130, `exit ${status.code}`),
          check(
            "it says how to resume",
            /interrupted \(SIGINT\); run the same command again to resume$/.test(last),
            last,
          ),
          check("the lock is released", !lockLeft),
          check("the manifest says unfinished", manifest.finished === null),
          check("the rerun finished", rerun.code === 0, s.show(rerun.stderr.slice(-2000))),
          check("results identical to the reference", same.ok, same.detail),
        ],
      };
    },
  },
  {
    id: "kill9-stale-lock",
    issue: "kill/resume",
    title: "kill -9 leaves a stale lock; the rerun takes it over with a note and ends identical",
    slow: true,
    async run(s) {
      const run = s.path("run");
      const first = s.spawn("reproduce.ts", ["--preset", "smoke", "--out", run]);
      const seen = await stderrUntil(first.child, /stage sft_pos: done/);
      first.child.kill("SIGKILL");
      await Promise.all([first.child.status, seen.rest, first.child.stdout.cancel()]);
      const lockLeft = existsSync(join(run, LOCK_FILE));
      const rerun = await s.script("reproduce.ts", ["--preset", "smoke", "--out", run]);
      const note = userLines(rerun.stderr).find((l) => l.includes("taking over")) ?? "";
      const same = await sameResultsAsReference(run);
      return {
        command: `${first.command}, kill -9 after stage sft_pos, then the same command again`,
        message: s.show(note),
        disk: `after kill -9: ${
          lockLeft ? `${LOCK_FILE} left naming the dead pid` : `no ${LOCK_FILE}`
        }; after the rerun: ${same.detail}, no ${LOCK_FILE}`,
        checks: [
          check("kill -9 left the lock file", lockLeft),
          check(
            "the rerun notes the takeover",
            /run\.lock: taking over the lock of pid \d+ .*which is no longer running/.test(note),
            note,
          ),
          check("the rerun finished", rerun.code === 0, s.show(rerun.stderr.slice(-2000))),
          check("results identical to the reference", same.ok, same.detail),
          check("the lock is released", !existsSync(join(run, LOCK_FILE))),
        ],
      };
    },
  },
  {
    id: "missing-metrics",
    issue: "3",
    title: "a training stage whose metrics file is gone is run again, not skipped",
    slow: true,
    async run(s) {
      const run = s.path("run");
      await copyReference(run);
      const metrics = join(run, "stages", "train:dpo:s0", "work", "metrics.jsonl");
      const before = await snapshot(run);
      await Deno.remove(metrics);
      const ran = await s.script("reproduce.ts", ["--preset", "smoke", "--out", run]);
      const after = await snapshot(run);
      const line = userLines(ran.stderr).find((l) => l.includes("train:dpo:s0")) ?? "";
      const same = await sameResultsAsReference(run);
      return {
        command: `rm stages/train:dpo:s0/work/metrics.jsonl; ${ran.command}`,
        message: s.show(line),
        disk: `metrics.jsonl restored byte-identical: ${
          after.get("stages/train:dpo:s0/work/metrics.jsonl") ===
            before.get("stages/train:dpo:s0/work/metrics.jsonl")
        }; ${same.detail}`,
        checks: [
          check("exit code 0", ran.code === 0, s.show(ran.stderr.slice(-2000))),
          check(
            "the stage reruns",
            /stage train:dpo:s0: outputs missing or corrupt, running it again/.test(line),
            line,
          ),
          check(
            "metrics.jsonl restored",
            after.get("stages/train:dpo:s0/work/metrics.jsonl") ===
              before.get("stages/train:dpo:s0/work/metrics.jsonl"),
          ),
          check("results identical to the reference", same.ok, same.detail),
        ],
      };
    },
  },
];

/** Registers a Deno test per case that `which` selects; every check of a case must hold. */
export function testCases(which: (c: FaultCase) => boolean): void {
  for (const c of CASES.filter(which)) {
    Deno.test({
      name: `fault ${c.id}: ${c.title}`,
      sanitizeResources: false,
      async fn() {
        const outcome = await runCase(c);
        for (const { what, ok, detail } of outcome.checks) {
          if (!ok) {
            throw new Error(
              `${what}${detail ? ` — ${detail}` : ""}\n(command: ${outcome.command})`,
            );
          }
        }
      },
    });
  }
}

/** Runs `c` in a scratch folder of its own, which is removed afterwards. */
export async function runCase(c: FaultCase): Promise<Outcome> {
  const s = await Scratch.create();
  try {
    return await c.run(s);
  } finally {
    await s.remove();
  }
}
