// The run-directory lock between real processes: a second writer stops at once naming the
// holder; the lock goes away on every kind of exit; a lock left by a killed process is taken
// over with a note; a lock recorded from another host is obeyed and says how to clear it.
import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { hostname } from "node:os";
import { join } from "node:path";
import { LOCK_FILE, readHolder, RunLock, RunLockedError } from "../src/run/lock.ts";

const FIXTURE = new URL("./fixtures/hold_lock.ts", import.meta.url).pathname;

function holder(dir: string, then = "wait"): Deno.ChildProcess {
  return new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", FIXTURE, "--dir", dir, "--then", then],
    stdin: "piped",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
}

/** Reads the child's stdout until it says it holds the lock; returns its pid. */
async function lockedBy(child: Deno.ChildProcess): Promise<number> {
  const reader = child.stdout.getReader();
  let text = "";
  while (!/locked \d+\n/.test(text)) {
    const { value, done } = await reader.read();
    if (done) throw new Error(`the holder ended before locking: ${text}`);
    text += new TextDecoder().decode(value);
  }
  reader.releaseLock();
  return Number(/locked (\d+)/.exec(text)![1]);
}

async function finish(
  child: Deno.ChildProcess,
  closeStdin = true,
): Promise<{ code: number; stderr: string }> {
  // Closing stdin ends a waiting holder normally; a signalled one must end by the signal alone.
  if (closeStdin) await child.stdin.close().catch(() => {});
  const [status, stderr] = await Promise.all([
    child.status,
    new Response(child.stderr).text(),
    child.stdout.cancel().catch(() => {}),
  ]);
  return { code: status.code, stderr };
}

async function tryAcquire(dir: string): Promise<{ code: number; stdout: string; stderr: string }> {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", FIXTURE, "--dir", dir, "--then", "exit"],
    stdout: "piped",
    stderr: "piped",
  }).output();
  const dec = new TextDecoder();
  return { code: out.code, stdout: dec.decode(out.stdout), stderr: dec.decode(out.stderr) };
}

Deno.test("a second writer stops at once with one line naming the holder", async () => {
  const dir = await Deno.makeTempDir();
  const first = holder(dir);
  const pid = await lockedBy(first);
  const started = performance.now();
  const second = await tryAcquire(dir);
  assert.equal(second.code, 1);
  assert.equal(second.stdout, "");
  const lines = second.stderr.trimEnd().split("\n");
  assert.equal(lines.length, 1, second.stderr);
  assert.match(lines[0], new RegExp(`^hold-lock: Cannot write .*: it is in use by pid ${pid} on `));
  assert.ok(lines[0].includes(hostname()), lines[0]);
  // "At once": it did not wait for the holder (which waits for its stdin to close).
  assert.ok(performance.now() - started < 20_000);
  const end = await finish(first);
  assert.equal(end.code, 0, end.stderr);
  assert.equal(existsSync(join(dir, LOCK_FILE)), false, "released on a normal exit");
  assert.equal((await tryAcquire(dir)).code, 0);
  await Deno.remove(dir, { recursive: true });
});

Deno.test("the lock is released on an error exit, on SIGTERM and on SIGINT", async () => {
  const dir = await Deno.makeTempDir();
  const failing = await tryAcquireThen(dir, "throw");
  assert.equal(failing.code, 1);
  assert.match(failing.stderr, /^hold-lock: Cannot go on: asked to fail\n$/);
  assert.equal(existsSync(join(dir, LOCK_FILE)), false, "released after an error");
  for (const [signal, code] of [["SIGTERM", 143], ["SIGINT", 130]] as const) {
    const child = holder(dir);
    await lockedBy(child);
    child.kill(signal);
    const end = await finish(child, false);
    await child.stdin.close().catch(() => {});
    assert.equal(end.code, code, end.stderr);
    assert.match(end.stderr, new RegExp(`interrupted \\(${signal}\\)`));
    assert.equal(existsSync(join(dir, LOCK_FILE)), false, `released on ${signal}`);
  }
  await Deno.remove(dir, { recursive: true });
});

async function tryAcquireThen(dir: string, then: string) {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", FIXTURE, "--dir", dir, "--then", then],
    stdout: "null",
    stderr: "piped",
  }).output();
  return { code: out.code, stderr: new TextDecoder().decode(out.stderr) };
}

Deno.test("a lock left by a killed process is taken over with a note", async () => {
  const dir = await Deno.makeTempDir();
  const victim = holder(dir);
  const pid = await lockedBy(victim);
  victim.kill("SIGKILL");
  await finish(victim);
  // The file (and its record of the dead holder) is still there.
  assert.equal((await readHolder(join(dir, LOCK_FILE)))?.pid, pid);
  const next = await tryAcquire(dir);
  assert.equal(next.code, 0, next.stderr);
  assert.match(next.stderr, new RegExp(`taking over the lock of pid ${pid} .*no longer running`));
  assert.equal(existsSync(join(dir, LOCK_FILE)), false);
  await Deno.remove(dir, { recursive: true });
});

Deno.test("a lock recorded from another host is obeyed and says how to clear it", async () => {
  const dir = await Deno.makeTempDir();
  const path = join(dir, LOCK_FILE);
  const record = { pid: 4242, host: `not-${hostname()}`, started: "2026-01-01T00:00:00.000Z" };
  await Deno.writeTextFile(path, JSON.stringify({ ...record, command: "reproduce.ts" }));
  const refused = await tryAcquire(dir);
  assert.equal(refused.code, 1);
  assert.match(
    refused.stderr,
    new RegExp(`pid 4242 on not-${hostname()} .*delete ${path.replaceAll(".", "\\.")}\\n$`),
  );
  assert.equal((await readHolder(path))?.host, record.host, "the record is left as it was");
  await Deno.remove(path);
  assert.equal((await tryAcquire(dir)).code, 0, "deleting the file, as told, clears it");
  await Deno.remove(dir, { recursive: true });
});

Deno.test("of eight writers started together exactly one gets the lock", async () => {
  const dir = await Deno.makeTempDir();
  const children = Array.from({ length: 8 }, () => holder(dir));
  // Each either locks (and waits) or ends at once with the one-line refusal.
  const outcomes = await Promise.all(children.map(async (child) => {
    const reader = child.stdout.getReader();
    const first = await reader.read();
    reader.releaseLock();
    return first.done ? "refused" : "locked";
  }));
  assert.equal(outcomes.filter((o) => o === "locked").length, 1, outcomes.join(","));
  const ends = await Promise.all(children.map((c) => finish(c)));
  // A refusal names the holder, or says it is taking the lock right now (its record not yet
  // written).
  assert.equal(
    ends.filter((e) =>
      e.code === 1 && /^hold-lock: Cannot write .*(in use by pid|taking its lock)/.test(e.stderr)
    ).length,
    7,
    ends.map((e) => e.stderr).join(""),
  );
  await Deno.remove(dir, { recursive: true });
});

Deno.test("in one process, a held lock refuses a second acquire and release frees it", async () => {
  const dir = await Deno.makeTempDir();
  const lock = await RunLock.acquire(dir, { command: "test" });
  await assert.rejects(() => RunLock.acquire(dir), (e) => {
    assert.ok(e instanceof RunLockedError);
    assert.match(e.message, /this process/);
    return true;
  });
  lock.release();
  assert.equal(lock.held, false);
  const again = await RunLock.acquire(dir);
  again.release();
  await Deno.remove(dir, { recursive: true });
});
