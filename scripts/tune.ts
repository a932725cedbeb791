/**
 * `deno task tune`: the small, fair search of every trained method's hyper-parameters (issue of
 * fair baselines): each method's learning rate x its preference temperature (DPO and RPO beta,
 * cDPO gamma, TokenDPO beta; SFT its learning rate), one seed, the run's step budget, scored by
 * greedy accuracy on the validation problems carved from the train split. The test split is
 * never looked at. Methods that start from SFT start from the best SFT point.
 *
 * Writes the record to data/tuning/<preset>.json; with --write also puts the chosen values into
 * the preset (training.hyper) and points the preset at the record (training.tuningRecord), so
 * the report shows them with their validation scores. Resumable: every point is a stage of the
 * run directory (default runs/tune-<preset>).
 *
 *   deno task tune [--preset default] [--out DIR] [--write] [--force]
 */
import { parseArgs } from "node:util";
import { join } from "node:path";
import { kitPaths } from "../src/paths.ts";
import { writeJsonAtomic } from "../src/io/atomic.ts";
import { readJsonFile } from "../src/config/json_file.ts";
import { methodSpec } from "../src/method/methods.ts";
import { openRun } from "../src/pipeline/reproduce.ts";
import { sampleStage } from "../src/pipeline/stages/sample.ts";
import { ceScoresStage, contrastiveSftStages } from "../src/pipeline/stages/contrastive.ts";
import {
  bestPoint,
  tuneGrid,
  type TunePoint,
  tunePointName,
  tuneStage,
} from "../src/pipeline/stages/tune.ts";
import { closeBrowser } from "../src/plots/static_export.ts";

const { values } = parseArgs({
  args: Deno.args,
  options: {
    preset: { type: "string", default: "default" },
    out: { type: "string" },
    write: { type: "boolean", default: false },
    force: { type: "boolean", default: false },
  },
});
const preset = values.preset!;
const name = preset.endsWith(".json") ? preset.replace(/^.*\//, "").replace(/\.json$/, "") : preset;
const started = performance.now();
const session = await openRun({
  preset,
  out: values.out ?? join(kitPaths.runs, `tune-${name}`),
  force: values.force,
});
const { ctx, runStage } = session;
const record: Record<string, unknown> = {};
try {
  // The data every method trains on (rollouts are not needed to train).
  await runStage(sampleStage(ctx));
  for (const spec of contrastiveSftStages(ctx)) await runStage(spec);
  await runStage(ceScoresStage(ctx));
  const methods = [...ctx.config.training.methods].sort((a, b) =>
    Number(b === "sft") - Number(a === "sft")
  );
  let sft: { dir: string; stage: string } | null = null;
  for (const method of methods) {
    const needsSft = methodSpec(method).startsFrom === "sft";
    if (needsSft && !sft) {
      throw new Error(
        `Cannot tune ${method}: it starts from SFT, which training.methods does not include`,
      );
    }
    const points: TunePoint[] = [];
    for (const { lr, temperature } of tuneGrid(method)) {
      const spec = tuneStage(ctx, method, lr, temperature, needsSft ? sft : null);
      await runStage(spec);
      points.push(JSON.parse(await Deno.readTextFile(ctx.run.tuneResult(spec.name))));
    }
    const best = bestPoint(points);
    const temperature = methodSpec(method).temperature;
    const bestName = tunePointName(
      method,
      best.hyper.lr as number,
      temperature ? best.hyper[temperature] as number : null,
    );
    record[method] = { chosen: best.hyper, accuracy: best.accuracy, points };
    console.log(
      `tune: ${method}: ${bestName} is best, ${
        best.accuracy.toFixed(1)
      }% on ${best.n} validation problems`,
    );
    if (method === "sft") {
      sft = {
        dir: ctx.run.model(`tune:${bestName}`.replaceAll(":", "-")),
        stage: `tune:${bestName}`,
      };
    }
  }
} finally {
  await session.close();
  await closeBrowser();
}

const tuning = {
  preset: name,
  validationProblems: ctx.problems.validation.length,
  seed: ctx.config.training.seeds[0],
  steps: ctx.config.training.steps,
  methods: record,
};
const recordPath = join(kitPaths.data, "tuning", `${name}.json`);
await writeJsonAtomic(recordPath, tuning);
console.log(`tune: wrote ${recordPath}`);
if (values.write) {
  const presetPath = preset.endsWith(".json") ? preset : join(kitPaths.presets, `${preset}.json`);
  const user = (await readJsonFile(presetPath)) as Record<string, Record<string, unknown>>;
  const hyper = Object.fromEntries(
    Object.entries(record).map(([m, r]) => [m, (r as { chosen: Record<string, unknown> }).chosen]),
  );
  user.training = {
    ...(user.training ?? {}),
    hyper,
    tuningRecord: `tuning/${name}.json`,
  };
  await writeJsonAtomic(presetPath, user);
  console.log(`tune: wrote the chosen values into ${presetPath}`);
}
console.log(`tune: done in ${((performance.now() - started) / 1000).toFixed(0)} s`);
