// The trainer boundary, exercised against the real `python -m cdpo_trainer` process.
import assert from "node:assert/strict";
import { Trainer, TrainerError } from "../src/trainer/mod.ts";
import { PROTOCOL_VERSION } from "../src/trainer/protocol.ts";
import { kitPaths, trainerPython } from "../src/paths.ts";

function isAlive(pid: number): boolean {
  try {
    Deno.kill(pid, "SIGCONT"); // signal 0 is not offered; SIGCONT is harmless to a live process
    return true;
  } catch {
    return false;
  }
}

async function waitUntil(cond: () => boolean, ms: number): Promise<boolean> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (cond()) return true;
    await new Promise((r) => setTimeout(r, 50));
  }
  return cond();
}

Deno.test("hello reports the protocol version and the trainer's versions", async () => {
  const trainer = await Trainer.start({ testOps: true });
  try {
    const hello = await trainer.request("hello");
    assert.equal(hello.protocol, PROTOCOL_VERSION);
    assert.match(String(hello.python), /^3\.\d+\.\d+$/);
    assert.match(String(hello.torch), /^\d+\.\d+/);
    assert.match(String(hello.transformers), /^\d+\.\d+/);
    assert.ok(typeof hello.device === "string" && hello.device.length > 0);
  } finally {
    await trainer.close();
  }
  assert.equal(trainer.exitCode, 0);
});

Deno.test("events stream in order before the result", async () => {
  const trainer = await Trainer.start({ testOps: true });
  const seen: number[] = [];
  try {
    const result = await trainer.request("sleep", { steps: 3, seconds: 0.01 }, {
      onEvent: (e) => seen.push(e.done as number),
    });
    assert.deepEqual(result, { steps: 3 });
    assert.deepEqual(seen, [1, 2, 3]);
  } finally {
    await trainer.close();
  }
});

Deno.test("a production trainer does not serve the test-only ops", async () => {
  const trainer = await Trainer.start();
  try {
    for (const op of ["sleep", "crash"]) {
      await assert.rejects(
        trainer.request(op, { steps: 1, seconds: 0, code: 3, stderr: "" }),
        (e: TrainerError) => e.details.kind === "unknown_op",
      );
    }
  } finally {
    await trainer.close();
  }
});

Deno.test("a bad parameter is a remote bad_input error and the process survives", async () => {
  const trainer = await Trainer.start({ testOps: true });
  try {
    await assert.rejects(
      trainer.request("sleep", { steps: "three", seconds: 0 }),
      (e: TrainerError) => {
        assert.equal(e.failure, "remote");
        assert.equal(e.details.kind, "bad_input");
        assert.match(e.message, /parameter 'steps'/);
        return true;
      },
    );
    await assert.rejects(
      trainer.request("no_such_op"),
      (e: TrainerError) => e.details.kind === "unknown_op",
    );
    // Still serving:
    assert.deepEqual(await trainer.request("sleep", { steps: 1, seconds: 0 }), { steps: 1 });
  } finally {
    await trainer.close();
  }
});

Deno.test("a crash becomes a typed error with the exit code and stderr tail", async () => {
  const trainer = await Trainer.start({ testOps: true });
  await assert.rejects(
    trainer.request("crash", { code: 7, stderr: "the tail we expect\n" }),
    (e: TrainerError) => {
      assert.equal(e.failure, "crashed");
      assert.equal(e.exitCode, 7);
      assert.match(e.stderrTail, /the tail we expect/);
      return true;
    },
  );
  // Later requests fail fast instead of hanging.
  await assert.rejects(trainer.request("hello"), (e: TrainerError) => e.failure === "crashed");
});

Deno.test("a malformed stdout line is a protocol error and ends the process", async () => {
  // A trainer stand-in that answers with a line of the wrong protocol version.
  const script =
    'import sys\nfor line in sys.stdin:\n    print(\'{"v": 99, "id": 1, "type": "result", "result": {}}\', flush=True)\n';
  const dir = await Deno.makeTempDir();
  await Deno.mkdir(`${dir}/cdpo_trainer`);
  await Deno.writeTextFile(`${dir}/cdpo_trainer/__init__.py`, "");
  await Deno.writeTextFile(`${dir}/cdpo_trainer/__main__.py`, script);
  const trainer = await Trainer.start({ env: { PYTHONPATH: dir } });
  await assert.rejects(trainer.request("hello"), (e: TrainerError) => {
    assert.equal(e.failure, "protocol");
    assert.match(e.message, /field 'v' is 99/);
    return true;
  });
  await trainer.exited;
  await Deno.remove(dir, { recursive: true });
});

Deno.test("aborting a request kills the process", async () => {
  const trainer = await Trainer.start({ testOps: true });
  await trainer.request("hello");
  const controller = new AbortController();
  const pending = trainer.request("sleep", { steps: 1000, seconds: 0.05 }, {
    signal: controller.signal,
    onEvent: () => controller.abort(),
  });
  await assert.rejects(pending, (e: TrainerError) => e.failure === "cancelled");
  await trainer.exited;
  assert.equal(isAlive(trainer.pid), false);
});

Deno.test("no trainer survives its parent being killed", async () => {
  const parent = new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", new URL("./fixtures/orphan_parent.ts", import.meta.url).pathname],
    cwd: kitPaths.root,
    stdout: "piped",
    stderr: "inherit",
  }).spawn();
  const reader = parent.stdout.pipeThrough(new TextDecoderStream()).getReader();
  let text = "";
  while (!text.includes("\n")) {
    const { value, done } = await reader.read();
    if (done) break;
    text += value;
  }
  const childPid = Number(text.trim());
  assert.ok(childPid > 0, `parent printed no pid: ${JSON.stringify(text)}`);
  assert.equal(isAlive(childPid), true);
  parent.kill("SIGKILL");
  await parent.status;
  reader.releaseLock();
  await parent.stdout.cancel().catch(() => {});
  assert.equal(
    await waitUntil(() => !isAlive(childPid), 5000),
    true,
    `trainer ${childPid} outlived its parent`,
  );
});

Deno.test("a missing interpreter is a clear start error", async () => {
  await assert.rejects(Trainer.start({ python: "/nonexistent/python3" }), (e: TrainerError) => {
    assert.equal(e.failure, "crashed");
    assert.match(e.message, /\/nonexistent\/python3/);
    return true;
  });
  assert.ok(trainerPython().length > 0);
});
