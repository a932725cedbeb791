// Strict JSON Lines reading, as the kit's own files and GSM8K-style data sets are read: a
// byte-order mark is accepted; null or non-object lines, empty files and invalid UTF-8 are
// refused naming file:line (and the byte offset); no message carries an invisible character.
import assert from "node:assert/strict";
import { join } from "node:path";
import { readJsonl, readJsonlLines } from "../src/io/jsonl.ts";
import { DataFileError } from "../src/io/data_file_error.ts";
import { firstInvalidUtf8 } from "../src/io/utf8.ts";
import { readGsm8kJsonl } from "../src/tasks/gsm8k_task.ts";
import { readFewShot } from "../src/tasks/load_task.ts";
import { isUserCaused } from "../src/errors.ts";
import { Random } from "../src/random.ts";

// Controls, format characters (BOM, zero-width, bidi) and line/paragraph separators.
const INVISIBLE = /[\p{Cc}\p{Cf}\p{Zl}\p{Zp}]/u;

async function fileWith(content: string | Uint8Array): Promise<string> {
  const dir = await Deno.makeTempDir();
  const path = join(dir, "data.jsonl");
  if (typeof content === "string") await Deno.writeTextFile(path, content);
  else await Deno.writeFile(path, content);
  return path;
}

/** The DataFileError `fn` rejects with (asserting it is one, user-caused, with a visible message). */
async function refusal(fn: () => Promise<unknown>): Promise<DataFileError> {
  try {
    await fn();
  } catch (e) {
    assert.ok(e instanceof DataFileError, String(e));
    assert.ok(isUserCaused(e));
    assert.doesNotMatch(e.message, INVISIBLE, JSON.stringify(e.message));
    assert.equal(e.message.includes("\n"), false);
    return e;
  }
  throw new Error("expected a refusal");
}

const GSM = '{"question": "q", "answer": "#### 1"}\n';

Deno.test("a byte-order mark is accepted and not part of the first record", async () => {
  const path = await fileWith("\uFEFF" + GSM + '{"question": "r", "answer": "#### 2"}\n');
  assert.deepEqual((await readGsm8kJsonl(path, "t")).map((p) => [p.question, p.answer]), [
    ["q", "1"],
    ["r", "2"],
  ]);
  assert.deepEqual(Object.keys((await readJsonl<object>(path))[0]), ["question", "answer"]);
});

Deno.test("null, arrays and scalars are refused with file:line", async () => {
  for (const [line, got] of [["null", "null"], ["[1, 2]", "an array"], ['"text"', "string"]]) {
    const path = await fileWith(GSM + "\n" + line + "\n");
    // Line 3: the blank line 2 still counts.
    const e = await refusal(() => readGsm8kJsonl(path, "t"));
    assert.equal(e.line, 3);
    assert.equal(
      e.message,
      `Cannot read ${path}:3: expected a JSON object on each line, got ${got}`,
    );
  }
});

Deno.test("an empty or blank file is refused unless the caller allows no records", async () => {
  for (const content of ["", "\n\n  \n", "\uFEFF"]) {
    const path = await fileWith(content);
    const e = await refusal(() => readGsm8kJsonl(path, "t"));
    assert.match(e.message, /holds no records .*expected GSM8K-style JSONL/);
    assert.deepEqual(await readJsonl(path, { allowEmpty: true }), []);
  }
});

Deno.test("invalid UTF-8 names the line and the byte offset of the first bad byte", async () => {
  const head = new TextEncoder().encode(GSM + '{"question": "caf');
  // 0xE9 alone is Latin-1 "é", not UTF-8: it is byte head.length, on line 2.
  const bytes = new Uint8Array([
    ...head,
    0xe9,
    ...new TextEncoder().encode('", "answer": "#### 2"}\n'),
  ]);
  const path = await fileWith(bytes);
  const e = await refusal(() => readGsm8kJsonl(path, "t"));
  assert.equal(e.byteOffset, head.length);
  assert.equal(e.line, 2);
  assert.equal(
    e.message,
    `Cannot read ${path}:2: invalid UTF-8 at byte offset ${head.length}; save the file as UTF-8`,
  );
});

Deno.test("a syntax error shows invisible characters as escapes", async () => {
  // A zero-width space before the object (copied from a web page) is not JSON.
  const path = await fileWith(GSM + "\u200B" + GSM);
  const e = await refusal(() => readJsonlLines(path));
  assert.equal(e.line, 2);
  assert.match(e.message, /invalid JSON \(.*\\u\{200B\}.*\)/);
});

Deno.test("a missing file or a directory is a refusal naming the path", async () => {
  const dir = await Deno.makeTempDir();
  assert.match(
    (await refusal(() => readGsm8kJsonl(join(dir, "no.jsonl"), "t"))).message,
    /no such file/,
  );
  assert.match(
    (await refusal(() => readGsm8kJsonl(dir, "t"))).message,
    new RegExp(`${dir}: .*directory`),
  );
});

Deno.test("few-shot files: a list of {question, solution}, else the entry is named", async () => {
  const dir = await Deno.makeTempDir();
  const path = join(dir, "shots.json");
  await Deno.writeTextFile(path, '\uFEFF[{"question": "q", "solution": "s"}]');
  assert.deepEqual(await readFewShot(path), [{ question: "q", solution: "s" }]);
  await Deno.writeTextFile(path, '[{"question": "q", "solution": "s"}, null]');
  assert.match((await refusal(() => readFewShot(path))).message, /entry 1 must be an object/);
  await Deno.writeTextFile(path, '[\n{"question": "q",\n}]');
  assert.equal((await refusal(() => readFewShot(path))).line, 3);
});

Deno.test("the UTF-8 check agrees with the platform's strict decoder on random bytes", () => {
  // An independent implementation: TextDecoder with fatal: true. Bytes are drawn mostly from
  // the ranges where UTF-8 has its edge cases (lead bytes C0-F7, continuations 80-BF).
  const rng = new Random(7);
  const pool = [
    0x41,
    0x0a,
    0x80,
    0x8f,
    0x90,
    0x9f,
    0xa0,
    0xbf,
    0xc0,
    0xc2,
    0xdf,
    0xe0,
    0xed,
    0xef,
    0xf0,
    0xf4,
    0xf5,
    0xff,
  ];
  const strict = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });
  for (let trial = 0; trial < 20000; trial++) {
    const bytes = Uint8Array.from(
      { length: 1 + rng.int(0, 6) },
      () => pool[rng.int(0, pool.length - 1)],
    );
    let valid = true;
    try {
      strict.decode(bytes);
    } catch {
      valid = false;
    }
    const offset = firstInvalidUtf8(bytes);
    assert.equal(offset === -1, valid, `${[...bytes].map((b) => b.toString(16))}`);
    // Everything before the reported byte is well-formed.
    if (offset > 0) strict.decode(bytes.subarray(0, offset));
  }
});
