/**
 * Static PNG/SVG export of Plotly figures through headless Chromium (Debian's, driven by
 * playwright-core). The network is blocked, Plotly is inlined, and `Math.random` is seeded
 * before Plotly runs, so the same figure gives the same bytes every time.
 *
 * @module
 */
import type { Browser, Page } from "playwright-core";
import fs from "node:fs";
import { chromiumPath } from "../setup/chromium.ts";
import type { Figure } from "./figure.ts";
import { plotlyBundle } from "./plotly_bundle.ts";
import { UserError } from "../errors.ts";

/** Chromium is absent: figures can only be exported as HTML. */
export class NoBrowserError extends UserError {
  constructor() {
    super(
      "Cannot export a static figure: Chromium is not installed (run `deno task setup` as root, or set CDPO_CHROMIUM)",
    );
  }
}

const CHROMIUM_FLAGS = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
  "--no-first-run",
  "--font-render-hinting=none",
];

// Plotly draws random ids for clip paths and gradients: reseeding this stream before each plot
// makes SVGs and PNGs reproducible byte for byte.
const SEED_RANDOM = `globalThis.__seedRandom = () => { let s = 0x2545f491; Math.random = () => {
  s ^= s << 13; s >>>= 0; s ^= s >>> 17; s ^= s << 5; s >>>= 0; return s / 4294967296; }; };
globalThis.__seedRandom();`;

/**
 * playwright-core, loaded on first use. Loading it probes WSL by testing whether a file under
 * /proc exists; Deno answers any /proc access without --allow-all with a NotCapable error rather
 * than "no", which would make every figure task need all permissions. For that probe only, a
 * path the permissions put out of reach is reported absent.
 */
async function loadPlaywright(): Promise<typeof import("playwright-core")> {
  const existsSync = fs.existsSync;
  fs.existsSync = ((path: fs.PathLike) => {
    try {
      return existsSync(path);
    } catch (e) {
      if (e instanceof Deno.errors.NotCapable) return false;
      throw e;
    }
  }) as typeof fs.existsSync;
  try {
    return await import("playwright-core");
  } finally {
    fs.existsSync = existsSync;
  }
}

let browser: Promise<Browser> | null = null;
let page: Promise<Page> | null = null;
// One page serves every export, one at a time (Plotly is parsed once per process).
let queue: Promise<unknown> = Promise.resolve();

function getPage(): Promise<Page> {
  const executablePath = chromiumPath();
  if (!executablePath) return Promise.reject(new NoBrowserError());
  browser ??= loadPlaywright().then(({ chromium }) =>
    chromium.launch({ executablePath, args: CHROMIUM_FLAGS, headless: true })
  );
  page ??= (async () => {
    const p = await (await browser!).newPage({ deviceScaleFactor: 1 });
    await p.route("**/*", (route) => route.abort());
    const bundle = await plotlyBundle();
    await p.setContent(
      `<!doctype html><html><head><meta charset="utf-8"><script>${SEED_RANDOM}</script>` +
        `<script>${bundle}</script></head><body style="margin:0"><div id="figure"></div></body></html>`,
    );
    return p;
  })();
  return page;
}

/** Closes the shared browser (call at the end of a script; tests must, to avoid leaks). */
export async function closeBrowser(): Promise<void> {
  if (!browser) return;
  const b = browser;
  browser = null;
  page = null;
  await (await b).close();
}

/** True when a static export can be made on this machine. */
export function canExportStatic(): boolean {
  return chromiumPath() !== null;
}

/** Renders a figure to PNG or SVG bytes. */
export function exportStatic(figure: Figure, format: "png" | "svg"): Promise<Uint8Array> {
  const run = queue.then(async () => {
    const p = await getPage();
    const dataUrl = await p.evaluate(
      async ({ spec, size, format }) => {
        // deno-lint-ignore no-explicit-any
        const g = globalThis as any;
        g.__seedRandom();
        const gd = await g.Plotly.newPlot("figure", spec.data, { ...spec.layout, ...size }, {
          staticPlot: true,
        });
        try {
          return await g.Plotly.toImage(gd, { format, ...size, scale: 1 });
        } finally {
          g.Plotly.purge(gd);
        }
      },
      { spec: figure.spec, size: figure.size, format },
    );
    return decodeDataUrl(dataUrl as string);
  });
  queue = run.catch(() => {});
  return run;
}

/** Fills `figure.png` (for notebook display) when Chromium is present; returns the figure. */
export async function withStatic(figure: Figure): Promise<Figure> {
  if (canExportStatic()) figure.png = await exportStatic(figure, "png");
  return figure;
}

function decodeDataUrl(url: string): Uint8Array {
  const comma = url.indexOf(",");
  const head = url.slice(0, comma);
  const body = url.slice(comma + 1);
  if (head.endsWith(";base64")) return Uint8Array.from(atob(body), (c) => c.charCodeAt(0));
  return new TextEncoder().encode(decodeURIComponent(body));
}
