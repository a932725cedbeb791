/**
 * Data selection from sampled trajectories (method.md, section 1): a question's trajectories are
 * grouped by extracted answer, groups sorted by size, and from them come the positive SFT set,
 * the negative SFT set, one preference pair per question, and every correct trajectory (the SFT
 * baseline's D_p).
 *
 * The negative set's member of each group is drawn at random (a seeded stream of its own),
 * independently of the pair's rejected trajectory, which is the largest incorrect group's first
 * sample. Taking both as the group's first member, as a literal reading does, puts every rejected
 * trajectory into the negative model's training set, so its contrastive scores would be measured
 * on memorised tokens.
 *
 * @module
 */
import { Random } from "../random.ts";

/** What selection needs of a graded trajectory. */
export interface GradedTrajectory {
  problemId: string;
  sampleIndex: number;
  /** The extracted final answer; null when none could be extracted (then ignored here). */
  answer: string | null;
  correct: boolean;
}

/** The selected sets, as trajectories of the input. */
export interface Selection<T extends GradedTrajectory> {
  positive: T[];
  negative: T[];
  pairs: { chosen: T; rejected: T }[];
  /** Every correct trajectory with an answer, by question, then sample. */
  correct: T[];
}

/** The trajectories of one question that share an answer. */
export interface Group<T> {
  answer: string;
  members: T[];
}

/**
 * Groups one question's trajectories by answer, largest first. Ties are broken by the earliest
 * sample in the group, so the order never depends on the order of the input.
 */
export function groupByAnswer<T extends GradedTrajectory>(trajectories: readonly T[]): Group<T>[] {
  const groups = new Map<string, T[]>();
  for (const t of trajectories) {
    if (t.answer === null) continue;
    const g = groups.get(t.answer);
    if (g) g.push(t);
    else groups.set(t.answer, [t]);
  }
  const out = [...groups].map(([answer, members]) => ({
    answer,
    members: members.slice().sort((a, b) => a.sampleIndex - b.sampleIndex),
  }));
  out.sort((a, b) =>
    b.members.length - a.members.length || a.members[0].sampleIndex - b.members[0].sampleIndex
  );
  return out;
}

/**
 * Selects the positive set, the negative set, the pairs and the correct set over all questions;
 * `seed` draws the negative set's members.
 */
export function selectTrajectories<T extends GradedTrajectory>(
  trajectories: readonly T[],
  seed: number,
): Selection<T> {
  const byProblem = new Map<string, T[]>();
  for (const t of trajectories) {
    const list = byProblem.get(t.problemId);
    if (list) list.push(t);
    else byProblem.set(t.problemId, [t]);
  }
  const selection: Selection<T> = { positive: [], negative: [], pairs: [], correct: [] };
  for (const id of [...byProblem.keys()].sort()) {
    const groups = groupByAnswer(byProblem.get(id)!);
    const correct = groups.filter((g) => g.members[0].correct);
    const incorrect = groups.filter((g) => !g.members[0].correct);
    const chosen = correct[0]?.members[0];
    if (chosen) selection.positive.push(chosen);
    selection.correct.push(
      ...correct.flatMap((g) => g.members).sort((a, b) => a.sampleIndex - b.sampleIndex),
    );
    // One stream per question: a question's draw does not depend on the other questions.
    const rng = Random.derive(seed, "negative-set", id);
    selection.negative.push(
      ...negativeGroups(incorrect).map((g) => g.members[rng.int(0, g.members.length - 1)]),
    );
    if (chosen && incorrect.length > 0) {
      selection.pairs.push({ chosen, rejected: incorrect[0].members[0] });
    }
  }
  return selection;
}

/**
 * The incorrect groups the negative set draws from, largest first, until the taken groups cover
 * at least half of the incorrect trajectories. A singleton group is taken only when it is the
 * largest incorrect group (otherwise one-off answers would flood the negative set).
 */
export function negativeGroups<T extends GradedTrajectory>(
  incorrect: readonly Group<T>[],
): Group<T>[] {
  const total = incorrect.reduce((n, g) => n + g.members.length, 0);
  const taken: Group<T>[] = [];
  let covered = 0;
  for (const [i, g] of incorrect.entries()) {
    if (covered * 2 >= total) break;
    if (g.members.length === 1 && i > 0) break;
    taken.push(g);
    covered += g.members.length;
  }
  return taken;
}
