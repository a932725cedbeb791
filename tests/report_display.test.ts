// Notebook views: token heat maps, trajectory view, run summary (MIME bundles with fallbacks).
import assert from "node:assert/strict";
import {
  rolloutHeatmap,
  RunSummary,
  TableView,
  tokenHeatmap,
  trajectoryView,
} from "../src/report/mod.ts";
import { computeResults } from "../src/report/results.ts";
import { FIXTURE_DATA as DATA, ROLLOUTS, TOKEN_SCORES } from "./report_fixture.ts";

const display = (x: object) =>
  (x as Record<symbol, () => Record<string, string>>)[Symbol.for("Jupyter.display")]();

Deno.test("token heat map: colour by s_t, escaped tokens, first error outlined, values on hover", () => {
  const view = tokenHeatmap(TOKEN_SCORES.filter((r) => r.trajectory_id === "train/p0/0"));
  const bundle = display(view);
  const chips = bundle["text/html"].match(/<span [^>]*>[^<]*<\/span>/g)!;
  assert.equal(chips.length, 5);
  // Position 0's token needs escaping; s_t 0.9 mixes red (214,48,49) 90% towards white:
  // 214 + 0.9 * 41 = 250.9, 48 + 0.9 * 207 = 234.3, 49 + 0.9 * 206 = 234.4.
  assert.ok(chips[0].includes(">&lt;&amp;&quot;x&quot;&gt;</span>"), chips[0]);
  assert.ok(chips[0].includes("background:rgb(251,234,234)"), chips[0]);
  // The first error (position 2, s_t 0.01: 214.41, 50.07, 51.06) is outlined; no other chip is.
  assert.ok(
    chips[2].includes("outline:2px solid #000") && chips[2].includes("rgb(214,50,51)"),
    chips[2],
  );
  assert.equal(chips.filter((c) => c.includes("outline")).length, 1);
  assert.match(chips[2], /title="position 2: s_t = 0\.0100, lp_pos = -0\.693, lp_neg = -1\.386/);
  assert.match(bundle["text/plain"], /w1 \[\[w2\]\] w3/);
});

Deno.test("rollout heat map: correctness colours, critical token underlined, prompt in the caption", () => {
  const view = rolloutHeatmap(ROLLOUTS.filter((r) => r.trajectory_id === "train/p1/0"));
  const html = view.toHtml();
  assert.match(html, /from the bare prompt 40\.0% correct/);
  const chips = html.match(/<span [^>]*>[^<]*<\/span>/g)!;
  assert.equal(chips.length, 4); // position -1 is not a token
  assert.ok(
    chips[3].includes("border-bottom") && !chips[3].includes("outline"),
    "critical token 3",
  );
  assert.ok(chips[1].includes("outline") && !chips[1].includes("border-bottom"), "first error 1");
  assert.ok(chips[1].includes("rgb(214,48,49)"), "0% correct is pure red");
  // 40% correct lies 80% of the way from red to the white midpoint: 214 + 0.8 * 41 = 246.8,
  // 48 + 0.8 * 207 = 213.6, 49 + 0.8 * 206 = 213.8.
  assert.ok(chips[0].includes("rgb(247,214,214)"), chips[0]);
  assert.match(view.toText(), /w0 \[\[w1\]\] w2 \{\{w3\}\}/);
});

Deno.test("trajectory view and run summary render HTML with a plain-text fallback", () => {
  const view = trajectoryView(DATA, "train/p0/0");
  assert.equal(view.views.length, 2); // by s_t and by rollout correctness
  const bundle = display(view);
  assert.match(
    bundle["text/plain"],
    /^Trajectory train\/p0\/0: incorrect \(verdict arithmetic\), answer 3, first error at token 2, 5 tokens/,
  );
  assert.ok(bundle["text/html"].includes("Rollout correctness of train/p0/0"));
  assert.throws(() => trajectoryView(DATA, "nope"), /Cannot show trajectory nope/);

  const summary = new RunSummary("run", computeResults(DATA));
  const s = display(summary);
  assert.ok(s["text/html"].includes("<caption>Table 1: greedy test accuracy</caption>"));
  assert.match(s["text/plain"], /cdpo\s+80\.00\s+10/);
  assert.equal(summary.tables.length, 3);
  const table = display(new TableView("t", { columns: ["a"], rows: [[""]] }));
  assert.equal(table["text/plain"], "t\na\n");
  assert.ok(table["text/html"].includes("<td>–</td>"));
});
