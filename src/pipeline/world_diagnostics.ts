/**
 * The world's own diagnostics, measured on the validation problems (never the test split): the
 * policy's greedy accuracy by the trigger verbs a problem holds, and the first errors of sampled
 * trajectories by kind. They say whether a world is one the method is about (systematic,
 * learnable confusions as the dominant first error) before any run spends time on it.
 *
 * @module
 */
import type { LanguageModel } from "../lm/mod.ts";
import { greedyGrades, sampleGraded } from "../method/sample.ts";
import type { DecodeSettings } from "../method/trajectory.ts";
import type { ReasoningTask, TaskProblem } from "../tasks/task.ts";
import { verbById } from "../tasks/world/lexicon.ts";
import type { WorldProblem } from "../tasks/world/problem.ts";

/** Which trigger verbs a problem holds, as one label. */
export type TriggerGroup = "greedy trigger" | "sampling trigger" | "both" | "none";

/** Accuracy of one group of problems. */
export interface GroupAccuracy {
  group: TriggerGroup | "all";
  correct: number;
  n: number;
}

/** What {@linkcode diagnoseWorld} measures. */
export interface WorldDiagnostics {
  problems: number;
  greedy: GroupAccuracy[];
  sampled: {
    trajectories: number;
    correct: number;
    /** First-error kind (the task's verdict) -> incorrect trajectories with it, most common first. */
    firstErrors: [string, number][];
  };
}

/** The trigger group of a world problem. */
export function triggerGroup(problem: Pick<WorldProblem, "steps">): TriggerGroup {
  const triggers = new Set(problem.steps.map((s) => verbById(s.verb).trigger));
  const greedy = triggers.has("greedy");
  const sampling = triggers.has("sampling");
  return greedy && sampling
    ? "both"
    : greedy
    ? "greedy trigger"
    : sampling
    ? "sampling trigger"
    : "none";
}

/** Greedy accuracy by trigger group and first errors of `perProblem` samples per problem. */
export async function diagnoseWorld(
  lm: LanguageModel,
  task: ReasoningTask,
  problems: readonly WorldProblem[],
  options: DecodeSettings & { perProblem: number; seed: number },
): Promise<WorldDiagnostics> {
  const asTask = problems as unknown as readonly TaskProblem[];
  const grades = await greedyGrades(lm, task, asTask, options.maxNewTokens);
  const groups = new Map<TriggerGroup | "all", GroupAccuracy>();
  const count = (group: TriggerGroup | "all", correct: boolean) => {
    const g = groups.get(group) ?? { group, correct: 0, n: 0 };
    g.n++;
    if (correct) g.correct++;
    groups.set(group, g);
  };
  grades.forEach((g, i) => {
    count("all", g.correct);
    count(triggerGroup(problems[i]), g.correct);
  });
  const sampled = await sampleGraded(lm, task, asTask, {
    split: "train",
    n: options.perProblem,
    temperature: options.temperature,
    topP: options.topP,
    maxNewTokens: options.maxNewTokens,
    seed: options.seed,
  });
  const kinds = new Map<string, number>();
  for (const t of sampled) {
    if (!t.correct) kinds.set(t.verdict, (kinds.get(t.verdict) ?? 0) + 1);
  }
  const order: (TriggerGroup | "all")[] = [
    "all",
    "none",
    "greedy trigger",
    "sampling trigger",
    "both",
  ];
  return {
    problems: problems.length,
    greedy: order.flatMap((g) => groups.has(g) ? [groups.get(g)!] : []),
    sampled: {
      trajectories: sampled.length,
      correct: sampled.filter((t) => t.correct).length,
      firstErrors: [...kinds].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1)),
    },
  };
}

/** The diagnostics as lines of text, for the world task to print. */
export function diagnosticsLines(d: WorldDiagnostics): string[] {
  const pct = (a: number, n: number) => n === 0 ? "-" : `${(100 * a / n).toFixed(1)}%`;
  const wrong = d.sampled.trajectories - d.sampled.correct;
  return [
    `greedy accuracy on ${d.problems} validation problems:`,
    ...d.greedy.map((g) => `  ${g.group}: ${pct(g.correct, g.n)} of ${g.n}`),
    `sampled: ${pct(d.sampled.correct, d.sampled.trajectories)} of ${d.sampled.trajectories} ` +
    `trajectories correct; first errors of the ${wrong} incorrect ones:`,
    ...d.sampled.firstErrors.map(([kind, n]) => `  ${kind}: ${pct(n, wrong)} (${n})`),
  ];
}
