/**
 * What the kit runs on: versions of Deno, the npm packages, and (through the trainer's `hello`)
 * Python, torch, transformers and the device. Used by run manifests and the quickstart notebook.
 *
 * @module
 */
import denoJson from "../../deno.json" with { type: "json" };
import { Trainer } from "../trainer/client.ts";

/** Versions and device of this machine's kit. */
export interface Environment {
  deno: string;
  typescript: string;
  npm: Record<string, string>;
  trainer:
    | { protocol: number; python: string; torch: string; transformers: string; device: string }
    | null;
}

/** The pinned npm versions from deno.json's imports (`npm:name@version`). */
export function pinnedNpmVersions(): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, spec] of Object.entries(denoJson.imports as Record<string, string>)) {
    const m = /^npm:(@?[^@]+)@(.+)$/.exec(spec);
    if (m) out[name] = m[2];
  }
  return out;
}

/** Collects the environment; `trainer` is asked for its versions when given (or started). */
export async function describeEnvironment(trainer?: Trainer | "start"): Promise<Environment> {
  let info: Environment["trainer"] = null;
  if (trainer) {
    const t = trainer === "start" ? await Trainer.start() : trainer;
    try {
      info = (await t.request("hello")) as unknown as NonNullable<Environment["trainer"]>;
    } finally {
      if (trainer === "start") await t.close();
    }
  }
  return {
    deno: Deno.version.deno,
    typescript: Deno.version.typescript,
    npm: pinnedNpmVersions(),
    trainer: info,
  };
}

/** The environment as (component, version) rows, for a table. */
export function environmentRows(env: Environment): { component: string; version: string }[] {
  const rows = [
    { component: "deno", version: env.deno },
    { component: "typescript", version: env.typescript },
    ...Object.entries(env.npm).map(([component, version]) => ({ component, version })),
  ];
  if (env.trainer) {
    rows.push(
      { component: "python", version: env.trainer.python },
      { component: "torch", version: env.trainer.torch },
      { component: "transformers", version: env.trainer.transformers },
      { component: "trainer device", version: env.trainer.device },
      { component: "trainer protocol", version: String(env.trainer.protocol) },
    );
  }
  return rows;
}
