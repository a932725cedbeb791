// buildReport end to end on a synthetic run directory: files, byte-identical rebuilds,
// missing inputs, and the errors for a directory that is not a run.
import assert from "node:assert/strict";
import { join } from "node:path";
import pl from "nodejs-polars";
import { buildReport } from "../src/report/mod.ts";
import { NotARunDirectoryError } from "../src/run/mod.ts";
import { TableReadError } from "../src/io/parquet.ts";
import { canExportStatic, closeBrowser } from "../src/plots/static_export.ts";
import { writeFixtureRun } from "./report_fixture.ts";

async function snapshot(dir: string): Promise<Map<string, Uint8Array>> {
  const out = new Map<string, Uint8Array>();
  for (const sub of ["tables", "figures"]) {
    for await (const e of Deno.readDir(join(dir, sub))) {
      out.set(`${sub}/${e.name}`, await Deno.readFile(join(dir, sub, e.name)));
    }
  }
  out.set("report.md", await Deno.readFile(join(dir, "report.md")));
  return out;
}

Deno.test("a full run: tables, figures and report.md, byte-identical when rebuilt", async () => {
  const dir = await Deno.makeTempDir({ prefix: "report-full-" });
  try {
    writeFixtureRun(dir);
    await buildReport(dir);
    const first = await snapshot(dir);
    await buildReport(dir);
    const second = await snapshot(dir);
    const png = canExportStatic();
    const expected = [
      "fig1.html",
      "fig5.html",
      "fig6.html",
      ...(png ? ["fig1.png", "fig5.png", "fig6.png"] : []),
    ]
      .map((f) => `figures/${f}`)
      .concat(["tables/detectors.csv", "tables/passk.csv", "tables/table1.csv", "report.md"]);
    assert.deepEqual([...first.keys()].sort(), expected.sort());
    for (const [name, bytes] of first) {
      assert.deepEqual(second.get(name), bytes, `${name} differs between builds`);
    }
    if (png) {
      assert.deepEqual([...first.get("figures/fig1.png")!.subarray(0, 4)], [
        0x89,
        0x50,
        0x4e,
        0x47,
      ]);
    }

    const text = (name: string) => new TextDecoder().decode(first.get(name));
    // Hand-derived in report_tables.test.ts; here they must survive the Parquet round trip
    // (nulls of first_error and of the log-probs included).
    assert.match(
      text("tables/table1.csv"),
      /^method,accuracy,n,ci_low,ci_high,p_value,p_mcnemar_s0,p_mcnemar_s1\nbase,60\.00,5,.*,0\.7500,1\.0000,1\.0000\ndpo,40\.00,10,.*,0\.2500,0\.5000,0\.5000\nrpo,80\.00,10,0\.00,0\.00,1\.0000,1\.0000,1\.0000\ncdpo,80\.00,10,,,,,\n$/,
    );
    const detectors = text("tables/detectors.csv");
    assert.match(
      detectors,
      /^detector,kind,sample,top1,within1,top3,auroc,n,n_eos\nce_argmin,all,in,0\.3333,0\.6667,0\.6667,0\.6528,3,1\n/,
    );
    assert.match(detectors, /\nrollout,all,in,0\.5000,0\.5000,1\.0000,1\.0000,2,1\n/);
    assert.match(detectors, /\nmin_policy_prob,all,in,0\.3333,1\.0000,0\.6667,0\.4861,3,1\n/);
    assert.match(detectors, /\nce_argmin,confusion,out,1\.0000,1\.0000,1\.0000,[\d.]+,1,0\n/);
    assert.equal(
      text("tables/passk.csv"),
      "k,with_critical,without_critical\n1,0.0000,25.0000\n2,0.0000,43.7500\n4,0.0000,62.5000\n",
    );

    assert.match(text("figures/fig1.html"), /"name":"with critical token"/);
    assert.match(text("figures/fig1.html"), /"name":"without critical token"/);
    assert.match(text("figures/fig5.html"), /"CE critical token replaced"/);
    for (const trace of ["DPO chosen", "DPO rejected", "RPO chosen", "cDPO rejected"]) {
      assert.ok(text("figures/fig6.html").includes(`"name":"${trace}"`), trace);
    }
    // Figure 6: DPO's mean over its seeds (seed 1 is all zeros: (0 - 10) / 2 ...), with the band
    // from the lowest seed (-10, -11, -12) to the highest (0, 0, 0).
    const fig6 = text("figures/fig6.html");
    assert.match(fig6, /"name":"DPO chosen","legendgroup":"dpo","x":\[0,1,2\],"y":\[-5,-5\.5,-6\]/);
    assert.match(fig6, /"x":\[0,1,2\],"y":\[-10,-11,-12\],"fill":"tonexty"/);

    const report = text("report.md");
    const dirName = dir.split(/[\\/]/).pop()!;
    assert.ok(report.startsWith(`# cdpo-kit report: ${dirName}\n`));
    assert.ok(!report.includes(dir), "no absolute path in the report");
    assert.match(report, /preset `smoke` · seed 3/);
    assert.match(
      report,
      /cDPO is 40\.0 points above DPO \(problem-level p = 0\.2500, not significant/,
    );
    assert.match(report, /cDPO lowers the rejected log-prob the most, as the paper expects\./);
    assert.match(report, /\| dpo \| 40\.00 \| 10 \|/);
    assert.match(report, /Interactive: \[figures\/fig1\.html\]\(figures\/fig1\.html\)/);
    if (png) assert.match(report, /!\[Figure 6: [^\]]+\]\(figures\/fig6\.png\)/);
    assert.match(report, /AUROC of −s_t against the rollout rule's critical token .*: 0\.5357\./);
    assert.match(report, /\| sample \| 1\.3 \| ran \|\n\| train \| 10\.0 \| cached \|/); // from manifest.json
    assert.match(report, /\| cDPO \| 67\.9 \| 19\.6 \|/); // the paper's Table 1
  } finally {
    await closeBrowser();
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("missing inputs: said in report.md, no empty tables, stale outputs removed", async () => {
  const dir = await Deno.makeTempDir({ prefix: "report-partial-" });
  try {
    writeFixtureRun(dir, {
      rollouts: false,
      passk: false,
      tokenScores: false,
      metrics: false,
      fig5: false,
      manifest: false,
    });
    // Outputs of an earlier build whose inputs are gone now.
    await Deno.mkdir(join(dir, "tables"));
    await Deno.mkdir(join(dir, "figures"));
    await Deno.writeTextFile(join(dir, "tables", "passk.csv"), "stale");
    await Deno.writeTextFile(join(dir, "figures", "fig1.html"), "stale");
    const result = await buildReport(dir, { png: false });
    const tables = [...Deno.readDirSync(join(dir, "tables"))].map((e) => e.name);
    assert.deepEqual(tables, ["table1.csv"]);
    assert.deepEqual([...Deno.readDirSync(join(dir, "figures"))], []);
    const report = await Deno.readTextFile(join(dir, "report.md"));
    assert.match(report, /no manifest\.json/);
    assert.match(report, /- Figure 1 and tables\/passk\.csv: data\/passk\.parquet is absent/);
    assert.match(
      report,
      /- Detector table: neither data\/token_scores\.parquet nor data\/rollouts\.parquet/,
    );
    assert.match(report, /- Figure 6: data\/metrics\.parquet is absent/);
    assert.ok(!report.includes("| detector |"), "no empty detector table");
    assert.equal(result.figures.length, 0);
    assert.match(report, /cDPO is 40\.0 points above DPO/); // what exists is still reported
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("a directory without data/ is refused, naming the path (library and script)", async () => {
  const dir = await Deno.makeTempDir({ prefix: "report-bad-" });
  try {
    await assert.rejects(() => buildReport(dir), (e: unknown) => {
      assert.ok(e instanceof NotARunDirectoryError);
      assert.ok(e.message.includes(dir) && e.message.includes("no data/ folder"), e.message);
      return true;
    });
    const script = new URL("../scripts/figures.ts", import.meta.url).pathname;
    const run = (args: string[]) =>
      new Deno.Command(Deno.execPath(), {
        args: ["run", "-A", script, ...args],
        stdout: "piped",
        stderr: "piped",
      }).output();
    const bad = await run(["--run", dir]);
    assert.equal(bad.code, 1);
    assert.ok(new TextDecoder().decode(bad.stderr).includes(dir));
    const usage = await run([]);
    assert.equal(usage.code, 2);
    assert.match(new TextDecoder().decode(usage.stderr), /--run DIR is required/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("a table without a required column is an error naming the file and the column", async () => {
  const dir = await Deno.makeTempDir({ prefix: "report-schema-" });
  try {
    await Deno.mkdir(join(dir, "data"));
    pl.DataFrame({ method: ["cdpo"], seed: [0], correct: [true] }).writeParquet(
      join(dir, "data", "evaluation.parquet"),
    );
    await assert.rejects(() => buildReport(dir, { png: false }), (e: unknown) => {
      assert.ok(e instanceof TableReadError);
      assert.match(e.message, /evaluation\.parquet: missing column\(s\) problem_id/);
      return true;
    });
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
