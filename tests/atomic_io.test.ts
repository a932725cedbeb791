import assert from "node:assert/strict";
import { join } from "node:path";
import { produceAtomic, writeFileAtomic } from "../src/io/atomic.ts";
import { canonicalJson, hashJson, sha256 } from "../src/io/hash.ts";

Deno.test("atomic writes leave no temporary files, also when the producer fails", async () => {
  const dir = await Deno.makeTempDir();
  await writeFileAtomic(join(dir, "a", "b.txt"), "hello");
  assert.equal(await Deno.readTextFile(join(dir, "a", "b.txt")), "hello");
  await assert.rejects(produceAtomic(join(dir, "c"), async (tmp) => {
    await Deno.mkdir(tmp);
    await Deno.writeTextFile(join(tmp, "half"), "x");
    throw new Error("interrupted");
  }));
  const names = [...Deno.readDirSync(dir)].map((e) => e.name).sort();
  assert.deepEqual(names, ["a"]);
  await produceAtomic(join(dir, "c"), (tmp) => Deno.mkdir(tmp));
  await produceAtomic(join(dir, "c"), async (tmp) => {
    await Deno.mkdir(tmp);
    await Deno.writeTextFile(join(tmp, "new"), "y");
  });
  assert.deepEqual([...Deno.readDirSync(join(dir, "c"))].map((e) => e.name), ["new"]);
  await Deno.remove(dir, { recursive: true });
});

Deno.test("hashes: known SHA-256 and key-order-free JSON", async () => {
  // SHA-256("abc") from FIPS 180-2's test vectors.
  assert.equal(
    await sha256("abc"),
    "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad",
  );
  assert.equal(canonicalJson({ b: 1, a: [{ d: 2, c: 3 }] }), '{"a":[{"c":3,"d":2}],"b":1}');
  assert.equal(await hashJson({ x: 1, y: 2 }), await hashJson({ y: 2, x: 1 }));
});
