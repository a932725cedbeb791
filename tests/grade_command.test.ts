// `deno task grade`: the command a researcher points at any outputs, run as a user would.
import assert from "node:assert/strict";
import { join } from "node:path";
import { kitPaths } from "../src/paths.ts";

async function grade(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", join(kitPaths.root, "scripts", "grade.ts"), ...args],
    stdout: "piped",
    stderr: "piped",
  }).output();
  const text = new TextDecoder();
  return { code: out.code, stdout: text.decode(out.stdout), stderr: text.decode(out.stderr) };
}

async function file(dir: string, lines: unknown[]): Promise<string> {
  const path = join(dir, "outputs.jsonl");
  await Deno.writeTextFile(
    path,
    lines.map((l) => typeof l === "string" ? l : JSON.stringify(l)).join("\n") + "\n",
  );
  return path;
}

Deno.test("grade --task gsm8k: one line per input, in order, summary on stderr", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const path = await file(dir, [
      { response: "4 + 4 = 8. The answer is 8.", reference: "4+4=<<4+4=8>>8\n#### 8" },
      // 120,006 is not 120,000 (exact comparison); the extracted text drops the separators.
      { response: "The answer is $120,006.", reference: "#### 120,000" },
      "",
      { response: "I am not sure.", reference: "#### 3" },
    ]);
    const r = await grade(["--task", "gsm8k", path]);
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(r.stdout.trim().split("\n").map((l) => JSON.parse(l)), [
      { correct: true, extracted: "8" },
      { correct: false, extracted: "120006" },
      { correct: false, extracted: null },
    ]);
    assert.match(r.stderr, /3 responses: 1 correct \(33\.3%\), 1 without an answer/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("grade --task math500: math-verify through the trainer", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const path = await file(dir, [
      { response: "So the sum is $\\boxed{\\frac{11}{12}}$.", reference: "\\frac{11}{12}" },
      { response: "Hence $\\boxed{0.5}$", reference: "\\frac{1}{2}" },
      { response: "It is \\boxed{7}", reference: "8" },
    ]);
    const r = await grade(["--task", "math500", path]);
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(r.stdout.trim().split("\n").map((l) => JSON.parse(l)), [
      { correct: true, extracted: "\\frac{11}{12}" },
      { correct: true, extracted: "0.5" },
      { correct: false, extracted: "7" },
    ]);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("grade: bad lines name file:line (exit 1), bad usage prints the usage (exit 2)", async () => {
  const dir = await Deno.makeTempDir();
  try {
    let path = await file(dir, [{ response: "1", reference: "#### 1" }, "{not json"]);
    let r = await grade(["--task", "gsm8k", path]);
    assert.equal(r.code, 1);
    assert.equal(r.stdout, "", "nothing is written before every line is checked");
    assert.match(r.stderr, /outputs\.jsonl:2: invalid JSON/);
    assert.equal(r.stderr.trim().split("\n").length, 1);
    path = await file(dir, [{ response: "1", reference: "1" }]);
    r = await grade(["--task", "gsm8k", path]);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /outputs\.jsonl:1: field 'reference' has no "#### <number>"/);
    path = await file(dir, [{ response: 3, reference: "1" }]);
    r = await grade(["--task", "math500", path]);
    assert.match(r.stderr, /outputs\.jsonl:1: field 'response' must be a string/);
    r = await grade(["--task", "math500", join(dir, "absent.jsonl")]);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /absent\.jsonl: cannot read it/);
    for (const args of [[], ["--task", "aime", path], ["--task", "gsm8k"], ["--bogus"]]) {
      r = await grade(args);
      assert.equal(r.code, 2, args.join(" "));
      assert.match(r.stderr, /usage: deno task grade --task gsm8k\|math500 FILE\.jsonl/);
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
