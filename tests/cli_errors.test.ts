// The one error surface of every task, through a real process: a user-caused error is one line
// and exit 1, a defect is one line naming it as such, bad usage is the usage and exit 2, and
// stack traces appear only with CDPO_DEBUG=1.
import assert from "node:assert/strict";

const FIXTURE = new URL("./fixtures/fail_with.ts", import.meta.url).pathname;

async function run(args: string[], debug = false): Promise<{ code: number; stderr: string }> {
  const env: Record<string, string> = { NO_COLOR: "1" };
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", FIXTURE, ...args],
    env: debug ? { ...env, CDPO_DEBUG: "1" } : { ...env, CDPO_DEBUG: "" },
    stdout: "piped",
    stderr: "piped",
  }).output();
  return { code: out.code, stderr: new TextDecoder().decode(out.stderr) };
}

Deno.test("a user-caused error is one line and exit 1", async () => {
  const { code, stderr } = await run(["--kind", "user"]);
  assert.equal(code, 1);
  assert.equal(
    stderr,
    "fail-with: Cannot read data.jsonl:3: expected a JSON object on each line, got null\n",
  );
  // A bad token id is user-caused too, though it stays a RangeError.
  const token = await run(["--kind", "token"]);
  assert.equal(token.code, 1);
  assert.equal(token.stderr.split("\n").length, 2);
  assert.match(token.stderr, /^fail-with: Cannot use prompt 3: token 2 is 120/);
});

Deno.test("a defect is one line that says so; its stack only with CDPO_DEBUG=1", async () => {
  const quiet = await run(["--kind", "bug"]);
  assert.equal(quiet.code, 1);
  assert.equal(
    quiet.stderr,
    "fail-with: internal error (TypeError): Cannot read properties of undefined (reading 'x'); " +
      "this is a defect of the kit, CDPO_DEBUG=1 shows the stack trace\n",
  );
  const debug = await run(["--kind", "bug"], true);
  assert.equal(debug.code, 1);
  assert.match(debug.stderr, /\n {4}at .*fail_with\.ts:\d+/);
});

Deno.test("a trainer crash is one line; its stderr tail with CDPO_DEBUG=1", async () => {
  const quiet = await run(["--kind", "trainer"]);
  assert.equal(quiet.code, 1);
  assert.equal(
    quiet.stderr,
    "fail-with: Cannot train: the trainer exited with code 137 (CDPO_DEBUG=1 shows the details)\n",
  );
  assert.match((await run(["--kind", "trainer"], true)).stderr, /MemoryError/);
});

Deno.test("bad usage prints the usage and exits 2; --help exits 0", async () => {
  for (const args of [["--bogus"], ["--kind"], ["--kind", "usage"], ["stray"]]) {
    const { code, stderr } = await run(args);
    assert.equal(code, 2, args.join(" "));
    const lines = stderr.trimEnd().split("\n");
    assert.equal(lines.length, 2, stderr);
    assert.equal(lines[1], "usage: fail_with.ts --kind user|bug|trainer|usage|token|ok");
  }
  assert.match((await run(["--bogus"])).stderr, /^fail-with: Unknown option '--bogus'\n/);
  assert.equal((await run(["--help"])).code, 0);
  assert.equal((await run(["--kind", "ok"])).code, 0);
});
