// Figure export through the real Chromium: offline HTML, byte-identical static images.
import assert from "node:assert/strict";
import {
  canExportStatic,
  closeBrowser,
  exportStatic,
  Figure,
  passAtKCurves,
} from "../src/plots/mod.ts";

Deno.test("HTML inlines Plotly and the figure data, and loads nothing from the network", async () => {
  const html = await passAtKCurves(8, [1, 2]).toHtml();
  assert.ok(html.length > 1_000_000, "the Plotly bundle is inlined");
  assert.ok(!/<script[^>]+src=/.test(html), "no external scripts");
  assert.match(html, /"name":"1 of 8 correct"/);
});

Deno.test({
  name: "PNG and SVG exports are byte-identical across runs",
  ignore: !canExportStatic(),
  async fn() {
    try {
      const fig = passAtKCurves(16, [1, 8]);
      const svg1 = await exportStatic(fig, "svg");
      const png1 = await exportStatic(fig, "png");
      const other = await exportStatic(
        new Figure("other", { data: [{ type: "bar", x: [1], y: [2] }], layout: {} }),
        "svg",
      );
      const svg2 = await exportStatic(fig, "svg");
      const png2 = await exportStatic(fig, "png");
      assert.deepEqual(svg1, svg2);
      assert.deepEqual(png1, png2);
      assert.notDeepEqual(svg1, other);
      assert.deepEqual([...png1.subarray(0, 4)], [0x89, 0x50, 0x4e, 0x47]); // PNG signature
      assert.match(new TextDecoder().decode(svg1), /The unbiased pass@k estimator/);
    } finally {
      await closeBrowser();
    }
  },
});
