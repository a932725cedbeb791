/**
 * `deno task grade --task gsm8k|math500 FILE.jsonl`: grades any model outputs with the kit's
 * answer rules. Each line of FILE is `{"response": ..., "reference": ...}` (reference: the data
 * set's own answer field: GSM8K's "... #### N", MATH's `answer`). One `{"correct", "extracted"}`
 * line per input goes to stdout, in order; a summary goes to stderr. Every line is checked before
 * anything is written: a bad one is a one-line error naming FILE:LINE (exit 1); a bad command line
 * prints the usage (exit 2). MATH answers are graded by math-verify in the trainer's Python.
 */
import { gsm8kReferenceAnswer } from "../src/tasks/grading.ts";
import { gsm8kTextGrader } from "../src/tasks/gsm8k_task.ts";
import { mathTextGrader } from "../src/tasks/math500_task.ts";
import type { TextGrader } from "../src/tasks/task.ts";
import { Trainer } from "../src/trainer/client.ts";

const USAGE = `usage: deno task grade --task gsm8k|math500 FILE.jsonl

  FILE.jsonl   one {"response": "...", "reference": "..."} per line; reference is the data
               set's answer field (GSM8K: "... #### N"; MATH500: the answer in LaTeX)
  writes one {"correct": bool, "extracted": string|null} per input line to stdout, in order,
  and a summary to stderr`;

function usage(problem: string): never {
  console.error(`grade: ${problem}\n\n${USAGE}`);
  Deno.exit(2);
}

function parseArgs(args: string[]): { task: "gsm8k" | "math500"; file: string } {
  let task: string | null = null;
  const files: string[] = [];
  for (let i = 0; i < args.length; i++) {
    if (args[i] === "--task") task = args[++i] ?? usage("--task needs a value");
    else if (args[i] === "--help" || args[i] === "-h") usage("help");
    else if (args[i].startsWith("-")) usage(`unknown option ${args[i]}`);
    else files.push(args[i]);
  }
  if (task === null) usage("--task is required");
  if (task !== "gsm8k" && task !== "math500") usage(`--task must be gsm8k or math500, got ${task}`);
  if (files.length !== 1) usage(`expected one FILE.jsonl, got ${files.length}`);
  return { task, file: files[0] };
}

/** The input lines, checked; exits 1 naming FILE:LINE at the first bad one. */
async function readItems(
  file: string,
  task: "gsm8k" | "math500",
): Promise<{ response: string; reference: string }[]> {
  let text: string;
  try {
    text = await Deno.readTextFile(file);
  } catch (e) {
    fail(`${file}: cannot read it (${(e as Error).message})`);
  }
  const items: { response: string; reference: string }[] = [];
  for (const [i, line] of text.split("\n").entries()) {
    if (!line.trim()) continue;
    const at = `${file}:${i + 1}`;
    let record: Record<string, unknown>;
    try {
      record = JSON.parse(line);
    } catch (e) {
      fail(`${at}: invalid JSON (${(e as Error).message})`);
    }
    if (typeof record !== "object" || record === null || Array.isArray(record)) {
      fail(`${at}: expected an object {"response", "reference"}`);
    }
    const { response, reference } = record;
    if (typeof response !== "string") fail(`${at}: field 'response' must be a string`);
    if (typeof reference !== "string" || !reference.trim()) {
      fail(`${at}: field 'reference' must be the data set's answer field (a non-empty string)`);
    }
    if (task === "gsm8k") {
      try {
        gsm8kReferenceAnswer(reference);
      } catch {
        fail(`${at}: field 'reference' has no "#### <number>": pass GSM8K's whole answer field`);
      }
    }
    items.push({ response, reference });
  }
  return items;
}

function fail(message: string): never {
  console.error(`grade: ${message}`);
  Deno.exit(1);
}

const { task, file } = parseArgs(Deno.args);
const items = await readItems(file, task);
// Started only for MATH (math-verify runs in the trainer's Python).
const held: { trainer: Promise<Trainer> | null } = { trainer: null };
const grader: TextGrader = task === "gsm8k"
  ? gsm8kTextGrader
  : mathTextGrader(() => (held.trainer ??= Trainer.start()));
try {
  const grades = await grader.gradeTexts(items);
  const out = grades.map((g) => JSON.stringify({ correct: g.correct, extracted: g.extracted }));
  if (out.length > 0) await Deno.stdout.write(new TextEncoder().encode(out.join("\n") + "\n"));
  const correct = grades.filter((g) => g.correct).length;
  const none = grades.filter((g) => g.extracted === null).length;
  console.error(
    `grade: ${task}, ${grades.length} responses: ${correct} correct (${
      grades.length ? (100 * correct / grades.length).toFixed(1) : "0.0"
    }%), ${none} without an answer`,
  );
} finally {
  if (held.trainer) await (await held.trainer).close();
}
