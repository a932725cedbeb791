/**
 * The Plotly bundle, read from the pinned npm package so figures work offline (no CDN).
 * @module
 */
import { existsSync } from "node:fs";
import { join } from "node:path";
import { KIT_ROOT } from "../paths.ts";

let cached: string | null = null;

/** The text of plotly.min.js from `plotly.js-dist-min` (pinned in deno.json). */
export async function plotlyBundle(): Promise<string> {
  if (cached) return cached;
  const path = join(KIT_ROOT, "node_modules", "plotly.js-dist-min", "plotly.min.js");
  if (!existsSync(path)) {
    throw new Error(
      `Cannot inline Plotly: ${path} is missing (run \`deno install\` or \`deno task setup\`)`,
    );
  }
  cached = await Deno.readTextFile(path);
  return cached;
}
