/**
 * Chromium for static figure export (PNG/SVG). Installed from Debian's packages when the kit
 * runs as root and apt-get is there; otherwise the kit says so once and exports HTML only.
 *
 * @module
 */
import { existsSync } from "node:fs";
import { runCommand } from "./run_command.ts";

/** Where Debian puts the browser. */
export const CHROMIUM_PATH = "/usr/bin/chromium";

/** The browser to drive: `CDPO_CHROMIUM` when set, else Debian's; null when absent. */
export function chromiumPath(): string | null {
  const override = Deno.env.get("CDPO_CHROMIUM");
  if (override) return existsSync(override) ? override : null;
  return existsSync(CHROMIUM_PATH) ? CHROMIUM_PATH : null;
}

/** Installs Chromium if possible; returns a one-line status. */
export async function ensureChromium(
  log: (line: string) => void,
): Promise<{ ok: boolean; status: string }> {
  const found = chromiumPath();
  if (found) return { ok: true, status: `present (${found})` };
  if (Deno.uid() !== 0) {
    return {
      ok: false,
      status:
        "absent and not root: figures will be exported as HTML only (install chromium to get PNG)",
    };
  }
  if (!existsSync("/usr/bin/apt-get")) {
    return { ok: false, status: "absent and no apt-get: figures will be exported as HTML only" };
  }
  log("setup: installing Chromium from Debian's packages (for PNG figures)");
  const env = { DEBIAN_FRONTEND: "noninteractive" };
  const update = await runCommand("apt-get", ["update", "-qq"], { env });
  const install = update.code === 0
    ? await runCommand("apt-get", [
      "install",
      "-y",
      "-qq",
      "--no-install-recommends",
      "chromium",
      "fonts-dejavu-core",
    ], {
      env,
    })
    : update;
  if (install.code !== 0 || !chromiumPath()) {
    const why = install.stderr.trim().split("\n").at(-1) ?? "";
    return {
      ok: false,
      status: `could not be installed (${why}): figures will be exported as HTML only`,
    };
  }
  return { ok: true, status: `installed (${CHROMIUM_PATH})` };
}
