/**
 * report.md: the run's tables as Markdown with a sentence on each column, links to its
 * figures, the paper's numbers for comparison, a paragraph of interpretation written from the
 * numbers, and (when manifest.json is present) the config and stage timings. A pure function of
 * its inputs: no clock, no absolute paths.
 *
 * @module
 */
import { type InterpretationInputs, interpretationSentences } from "./interpretation.ts";
import type { TuningRecord } from "../run/schema.ts";
import { methodLabel } from "../method/methods.ts";
import { PAPER_FIGURE1, PAPER_TABLE1 } from "./paper_numbers.ts";
import { fixed, type TextTable, toMarkdown } from "./table_text.ts";
import { DETECTOR_LEGEND } from "./detector_table.ts";
import type { RolloutSummary } from "./rollout_summary.ts";
import { PASSK_LEGEND } from "./passk_table.ts";
import { TABLE1_LEGEND } from "./table1.ts";
import { markdownCode, markdownText } from "./markdown_text.ts";
import type { MissingArtifact } from "./results.ts";
import { isOlderConfig, upgradeOlderConfig } from "../run/older_config.ts";

/** A figure the build wrote. */
export interface ReportFigure {
  name: string;
  title: string;
  /** Whether figures/<name>.png was written (Chromium present). */
  png: boolean;
}

/** Everything report.md is rendered from. */
export interface ReportInputs extends InterpretationInputs {
  runName: string;
  manifest: Record<string, unknown> | null;
  /** The search that chose the hyper-parameters, when the run has one. */
  tuning: TuningRecord | null;
  tables: {
    table1: TextTable | null;
    detectors: TextTable | null;
    detectorSummary: TextTable | null;
    passk: TextTable | null;
  };
  figures: readonly ReportFigure[];
  missing: readonly MissingArtifact[];
  /** False for a task without a first-error oracle (then no detector table). @default {true} */
  groundTruth?: boolean;
  rolloutSummary?: RolloutSummary | null;
}

function figureBlock(figures: readonly ReportFigure[], name: string): string {
  const f = figures.find((x) => x.name === name);
  if (!f) return "";
  const image = f.png ? `![${f.title}](figures/${f.name}.png)\n\n` : "";
  return `${image}Interactive: [figures/${f.name}.html](figures/${f.name}.html)` +
    (f.png ? ` · static: [figures/${f.name}.png](figures/${f.name}.png)` : "") + "\n";
}

function manifestString(m: Record<string, unknown> | null, ...path: string[]): string | null {
  let v: unknown = m;
  for (const key of path) {
    if (!v || typeof v !== "object") return null;
    v = (v as Record<string, unknown>)[key];
  }
  return typeof v === "string" || typeof v === "number" ? String(v) : null;
}

/** Stage durations (seconds) and outcomes from manifest.stages (array of {name, seconds, outcome} or an object by name); unknown shapes are skipped. */
export function stageTimings(
  manifest: Record<string, unknown> | null,
): { stage: string; seconds: number; outcome: string }[] {
  const stages = manifest?.stages;
  if (!stages || typeof stages !== "object") return [];
  const entries: [string, unknown][] = Array.isArray(stages)
    ? stages.map((s, i) => [typeof s?.name === "string" ? s.name : `stage ${i}`, s])
    : Object.entries(stages as Record<string, unknown>);
  const out: { stage: string; seconds: number; outcome: string }[] = [];
  for (const [stage, v] of entries) {
    let seconds: number | null = null;
    let outcome = "";
    if (typeof v === "number") seconds = v;
    else if (v && typeof v === "object") {
      const o = v as Record<string, unknown>;
      if (typeof o.outcome === "string") outcome = o.outcome;
      for (const key of ["seconds", "wall_s", "duration_s", "elapsed_s"]) {
        if (typeof o[key] === "number") seconds ??= o[key] as number;
      }
      for (const key of ["ms", "duration_ms", "durationMs", "elapsedMs"]) {
        if (typeof o[key] === "number") seconds ??= (o[key] as number) / 1000;
      }
    }
    if (seconds !== null && Number.isFinite(seconds)) out.push({ stage, seconds, outcome });
  }
  return out;
}

/** Each trained method's hyper-parameters, with the validation search that chose them. */
function hyperSection(r: ReportInputs): string {
  // An older kit's manifest has one set of hyper-parameters for every method: shown by method.
  const config = upgradeOlderConfig(r.manifest?.config);
  const training = (config as { training?: { hyper?: unknown } } | undefined)?.training;
  const hyper = (training?.hyper ?? null) as Record<string, Record<string, unknown>> | null;
  if (!hyper) return "";
  const t = r.tuning;
  const format = (h: Record<string, unknown>) =>
    Object.entries(h).map(([k, v]) => `${k} ${v}`).join(", ");
  const rows = Object.entries(hyper).map(([method, h]) => {
    const tuned = t?.methods[method];
    return `| ${methodLabel(method)} | ${format(h)} | ${
      tuned ? `${fixed(tuned.accuracy, 1)} (${tuned.points.length} points)` : "–"
    } |`;
  });
  const how = t
    ? `Chosen by \`deno task tune\` (preset ${t.preset}): each method's learning rate × its ` +
      `preference temperature, one seed (${t.seed}), ${t.steps} steps, scored by greedy accuracy ` +
      `on ${t.validationProblems} validation problems carved from the train split; the test ` +
      "split chose nothing. Every point's score is in `data/tuning.json`."
    : "Not tuned: these are the config's values (`deno task tune` searches them on validation problems).";
  return [
    "## Hyper-parameters",
    "",
    how,
    "",
    "| method | values | validation accuracy % |",
    "| --- | --- | --- |",
    ...rows,
    "",
  ].join("\n");
}

function paperSection(): string {
  const rows = PAPER_TABLE1.map((r) =>
    `| ${methodLabel(r.method)} | ${fixed(r.gsm8k, 1)} | ${fixed(r.math500, 1)} |`
  );
  const f = PAPER_FIGURE1;
  return [
    "## The paper's numbers (Llama-3-8B)",
    "",
    "For orientation only: this run's data set and model differ from the paper's, so compare the",
    "direction of effects, not the values.",
    "",
    "| method | GSM8K | MATH500 |",
    "| --- | --- | --- |",
    ...rows,
    "",
    `Figure 1 (100 trajectories): with the critical token pass@k = ${
      fixed(f.gsm8k.withCritical, 1)
    }% for every k; ` +
    `without it, GSM8K pass@1 ${fixed(f.gsm8k.withoutAt1, 1)}% and pass@64 ${
      fixed(f.gsm8k.withoutAt64, 1)
    }%, ` +
    `MATH pass@1 ${fixed(f.math.withoutAt1, 1)}% and pass@64 ${
      fixed(f.math.withoutAt64, 1)
    }%. Figure 6: DPO lowers the ` +
    "log-probs of both chosen and rejected responses, RPO raises chosen, cDPO raises chosen and " +
    "lowers rejected the most. The paper marks cDPO's gains significant at p < 0.005.",
    "",
  ].join("\n");
}

/** The text of report.md. */
export function renderReport(r: ReportInputs): string {
  const out: string[] = [];
  out.push(`# cdpo-kit report: ${markdownText(r.runName)}`, "");
  const preset = manifestString(r.manifest, "preset") ??
    manifestString(r.manifest, "config", "preset");
  const seed = manifestString(r.manifest, "config", "seed") ?? manifestString(r.manifest, "seed");
  const facts = [`run ${markdownCode(r.runName)}`];
  if (preset) facts.push(`preset ${markdownCode(preset)}`);
  if (seed) facts.push(`seed ${seed}`);
  if (!r.manifest) facts.push("no manifest.json (config and timings unknown)");
  else if (isOlderConfig(r.manifest.config)) facts.push("recorded by an older cdpo-kit");
  out.push(facts.join(" · "), "");
  const chosen = chosenTrainingQuestions(r.manifest);
  if (chosen) out.push(chosen, "");
  out.push(
    "Every table and figure below is rebuilt from the run's `data/` folder alone by",
    "`deno task figures --run <run dir>`.",
    "",
  );

  out.push("## Summary", "");
  const sentences = interpretationSentences(r);
  out.push(
    sentences.length > 0 ? sentences.join(" ") : "No results to interpret yet (see Missing below).",
    "",
  );

  out.push("## Table 1: greedy test accuracy", "");
  if (r.tables.table1) {
    out.push(toMarkdown(r.tables.table1), TABLE1_LEGEND, "", "Also in `tables/table1.csv`.", "");
  } else out.push("Not built (see Missing below).", "");

  if (r.groundTruth === false) out.push(...noGroundTruthSection(r));
  else out.push("## Critical-token detectors against the ground-truth first error", "");
  if (r.groundTruth === false) {
    // Said above: no detector table without a first-error oracle.
  } else if (r.tables.detectors) {
    const outOfSample = r.detectors?.rows.some((d) => d.sample === "out") ?? false;
    out.push(
      outOfSample
        ? "Top-1 hit rate in % (trajectories) by detector, for every first-error kind in and out " +
          "of sample, then per kind out of sample:"
        : "Top-1 hit rate in % (trajectories) by detector, for every first-error kind, then per " +
          "kind, in sample only (see Missing below):",
      "",
      toMarkdown(r.tables.detectorSummary ?? r.tables.detectors),
      DETECTOR_LEGEND,
      "",
    );
    const a = r.detectors?.ceVsRolloutAuroc ?? null;
    out.push(
      a === null
        ? "AUROC of s_t against the rollout labels: not available (needs rollout trajectories with contrastive scores and at least one rollout critical token)."
        : `AUROC of −s_t against the rollout rule's critical token (label is_critical, pooled over ${
          r.detectors!.ceVsRolloutTokens
        } tokens of rollout trajectories): ${fixed(a, 4)}.`,
      "",
      "Every rate (top-1, within-1, top-3, AUROC) of every detector, kind and sample is in " +
        "`tables/detectors.csv`.",
      "",
    );
  } else out.push("Not built (see Missing below).", "");

  out.push("## Figure 1: pass@k with and without the critical token", "");
  out.push(figureBlock(r.figures, "fig1") || "Not built (see Missing below).\n");
  if (r.tables.passk) {
    out.push(toMarkdown(r.tables.passk), PASSK_LEGEND, "", "Also in `tables/passk.csv`.", "");
  }

  out.push("## Figure 5: accuracy with the CE critical token replaced", "");
  out.push(figureBlock(r.figures, "fig5") || "Not built (see Missing below).\n");

  out.push("## Figure 6: log-probabilities of chosen and rejected responses during training", "");
  out.push(figureBlock(r.figures, "fig6") || "Not built (see Missing below).\n");

  out.push("## Missing", "");
  if (r.missing.length === 0) out.push("Nothing: every table and figure was built.", "");
  else out.push(...r.missing.map((m) => `- ${m.artifact}: ${m.reason}`), "");

  out.push(hyperSection(r));
  out.push(paperSection());

  const timings = stageTimings(r.manifest);
  if (timings.length > 0) {
    out.push(
      "## Stage timings",
      "",
      "Seconds of the run that computed each stage (a cached stage keeps its original time).",
      "",
      "| stage | seconds | outcome |",
      "| --- | --- | --- |",
    );
    out.push(
      ...timings.map((t) => `| ${t.stage} | ${fixed(t.seconds, 1)} | ${t.outcome || "–"} |`),
      "",
    );
  }
  const config = r.manifest?.config;
  if (config && typeof config === "object") {
    out.push("## Configuration", "", "```json", JSON.stringify(config, null, 2), "```", "");
  }
  return out.join("\n").replace(/\n{3,}/g, "\n\n").trimEnd() + "\n";
}

/** The critical-token section of a task without a first-error oracle (GSM8K, MATH500). */
function noGroundTruthSection(r: ReportInputs): string[] {
  const out = [
    "## Critical tokens (no ground truth on this task)",
    "",
    "This task has no first-error oracle: real data sets do not say where a wrong solution first " +
    "goes wrong, so the detectors cannot be scored against a ground-truth first error and no " +
    "detector table is built. The rollouts stand in for ground truth (method.md section 2).",
    "",
  ];
  const s = r.rolloutSummary;
  if (!s) {
    out.push("No rollouts were run (see Missing below).", "");
    return out;
  }
  out.push(
    `Rollouts searched ${s.searched} incorrect ${
      s.searched === 1 ? "trajectory" : "trajectories"
    } and found a critical token in ${s.found}.` +
      (s.scored > 0
        ? ` Of the ${s.scored} of those with contrastive scores, the lowest-s_t token is the rollout ` +
          `critical token in ${s.ceAgrees}.`
        : ""),
  );
  const a = r.detectors?.ceVsRolloutAuroc ?? null;
  out.push(
    a === null
      ? "AUROC of −s_t against the rollout labels: not available (needs rollout trajectories with contrastive scores and at least one rollout critical token)."
      : `AUROC of −s_t against the rollout rule's critical token (pooled over ${
        r.detectors!.ceVsRolloutTokens
      } tokens of rollout trajectories): ${fixed(a, 4)}.`,
    "",
  );
  return out;
}

/** The sentence saying that a preset chose its training questions (task.trainLines), or null. */
function chosenTrainingQuestions(manifest: Record<string, unknown> | null): string | null {
  const task = (manifest?.config as { task?: Record<string, unknown> } | undefined)?.task;
  const lines = task?.trainLines;
  if (!Array.isArray(lines) || lines.length === 0) return null;
  const file = String(task?.trainPath ?? "the train file").split("/").pop();
  const test = String(task?.testPath ?? "the test file").split("/").pop();
  return `Training questions were chosen by the preset, not taken in order: lines ${
    lines.join(", ")
  } of \`${file}\` (${lines.length} questions). The test split (\`${test}\`) is used as it is.`;
}
