/**
 * A Plotly figure as plain data, renderable three ways: self-contained interactive HTML, static
 * PNG/SVG (through headless Chromium), and a notebook MIME bundle with a PNG fallback.
 *
 * @module
 */
import { escapeHtml } from "./html_escape.ts";
import { plotlyBundle } from "./plotly_bundle.ts";

/** A Plotly figure specification (traces and layout), JSON-serialisable. */
export interface FigureSpec {
  data: Record<string, unknown>[];
  layout: Record<string, unknown>;
}

/** Size of static exports, in CSS pixels. */
export interface FigureSize {
  width: number;
  height: number;
}

/** The config every figure uses: no Plotly logo, no "edit in chart studio" link. */
export const PLOTLY_CONFIG = { displaylogo: false, responsive: true } as const;

/** A named figure; `png` is filled by {@linkcode withStatic} when Chromium is present. */
export class Figure {
  png: Uint8Array | null = null;

  constructor(
    readonly name: string,
    readonly spec: FigureSpec,
    readonly size: FigureSize = { width: 900, height: 520 },
  ) {}

  /** Title text from the layout, for text fallbacks (Plotly's line breaks as spaces). */
  get title(): string {
    const t = this.spec.layout.title;
    const text = typeof t === "string"
      ? t
      : t && typeof t === "object" && typeof (t as { text?: unknown }).text === "string"
      ? (t as { text: string }).text
      : this.name;
    return text.replaceAll("<br>", " ");
  }

  /** A standalone HTML page with Plotly inlined: works offline, opens in any browser. */
  async toHtml(): Promise<string> {
    return figureHtml(this.spec, this.title, await plotlyBundle());
  }

  /** Notebook display: Plotly JSON (interactive where supported), PNG fallback, text. */
  [Symbol.for("Jupyter.display")](): Record<string, unknown> {
    const bundle: Record<string, unknown> = {
      "application/vnd.plotly.v1+json": {
        data: this.spec.data,
        layout: this.spec.layout,
        config: PLOTLY_CONFIG,
      },
      "text/plain": `Figure: ${this.title}`,
    };
    if (this.png) bundle["image/png"] = encodeBase64(this.png);
    return bundle;
  }
}

/** The HTML page of a figure; deterministic for a given spec and bundle. */
export function figureHtml(spec: FigureSpec, title: string, bundle: string): string {
  // `</script` inside JSON would end the script element early.
  const json = JSON.stringify({ data: spec.data, layout: spec.layout, config: PLOTLY_CONFIG })
    .replaceAll(
      "</",
      "<\\/",
    );
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>${escapeHtml(title)}</title>
<style>html,body{margin:0;height:100%;font-family:sans-serif}#figure{width:100%;height:100%;min-height:480px}</style>
<script>${bundle}</script>
</head>
<body>
<div id="figure"></div>
<script>
const fig = ${json};
Plotly.newPlot("figure", fig.data, fig.layout, fig.config);
</script>
</body>
</html>
`;
}

function encodeBase64(bytes: Uint8Array): string {
  let binary = "";
  const chunk = 0x8000;
  for (let i = 0; i < bytes.length; i += chunk) {
    binary += String.fromCharCode(...bytes.subarray(i, i + chunk));
  }
  return btoa(binary);
}
