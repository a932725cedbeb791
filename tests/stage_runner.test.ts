// The stage runner's integrity rules on real files: a stage is done only when its tables have
// their columns and rows (zero rows only where it says so); a whole plan is checked against
// the run directory before any stage runs; the before-run hook fires only for work.
import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { join } from "node:path";
import pl from "nodejs-polars";
import {
  StageMismatchError,
  StageOutputError,
  StageRunner,
  type StageSpec,
} from "../src/pipeline/stage.ts";
import { writeParquetAtomic } from "../src/io/parquet.ts";
import { TABLE_COLUMNS } from "../src/run/data.ts";

const FIG5 = [...TABLE_COLUMNS.fig5];

function fig5Stage(
  dir: string,
  write: (path: string) => Promise<void>,
  allowEmpty = false,
  inputs: unknown = 1,
): StageSpec {
  const path = join(dir, "data", "fig5.parquet");
  return {
    name: "fig5",
    inputs,
    after: [],
    code: [import.meta.url],
    outputs: [path],
    tables: [{ path, table: "fig5", allowEmpty }],
    run: () => write(path),
  };
}

Deno.test("a zero-column or zero-row table is not marked done; an allowed empty one is", async () => {
  const dir = await Deno.makeTempDir();
  const done = join(dir, "stages", "fig5", "done.json");
  const runner = new StageRunner(dir);
  // What the evaluate stage once wrote for a run with no metrics: a Parquet file with no columns.
  const zeroColumns = fig5Stage(dir, async (path) => {
    await Deno.mkdir(join(dir, "data"), { recursive: true });
    pl.DataFrame({}).writeParquet(path);
  });
  await assert.rejects(() => runner.run(zeroColumns), (e) => {
    assert.ok(e instanceof StageOutputError);
    assert.match(
      e.message,
      /lacks column\(s\) condition, accuracy, n \(has none\); it is not marked done$/,
    );
    return true;
  });
  assert.equal(existsSync(done), false);
  const empty = (allow: boolean) => fig5Stage(dir, (p) => writeParquetAtomic(p, [], FIG5), allow);
  await assert.rejects(() => runner.run(empty(false)), /fig5\.parquet: it has no rows/);
  assert.equal(existsSync(done), false);
  assert.equal(await runner.run(empty(true)), "ran");
  assert.ok(existsSync(done));
  await Deno.remove(dir, { recursive: true });
});

Deno.test("a plan is refused before any stage runs or writes", async () => {
  const dir = await Deno.makeTempDir();
  const row = [{ condition: "sampled", accuracy: 50, n: 2 }];
  const writes: string[] = [];
  const stage = (name: string, inputs: unknown, after: string[] = []): StageSpec => {
    const path = join(dir, `${name}.parquet`);
    return {
      name,
      inputs,
      after,
      code: [import.meta.url],
      outputs: [path],
      tables: [{ path, table: "fig5" }],
      run: async () => {
        writes.push(name);
        await writeParquetAtomic(path, row);
      },
    };
  };
  const hooks: string[] = [];
  const first = new StageRunner(dir, {
    beforeRun: (s) => Promise.resolve(void hooks.push(s.name)),
  });
  for (const s of [stage("a", 1), stage("b", 1, ["a"])]) await first.run(s);
  assert.deepEqual(hooks, ["a", "b"]);
  // Rerun with b's inputs changed, after a new stage c that would run first: nothing runs.
  writes.length = 0;
  const second = new StageRunner(dir, {
    beforeRun: (s) => Promise.resolve(void hooks.push(s.name)),
  });
  const plan = [stage("c", 1), stage("a", 1), stage("b", 2, ["a"])];
  await assert.rejects(() => second.plan(plan), (e) => {
    assert.ok(e instanceof StageMismatchError);
    assert.equal(e.stage, "b");
    assert.deepEqual(e.differing, ["settings"]);
    return true;
  });
  assert.deepEqual(writes, []);
  assert.equal(existsSync(join(dir, "c.parquet")), false);
  // The unchanged plan passes, and only the new stage fires the hook.
  hooks.length = 0;
  const ok = [stage("c", 1), stage("a", 1), stage("b", 1, ["a"])];
  await second.plan(ok);
  for (const s of ok) await second.run(s);
  assert.deepEqual(hooks, ["c"]);
  assert.deepEqual(writes, ["c"]);
  // A later plan of one stage whose upstream ran in an earlier call of the same runner (how
  // `deno task tune` runs its points) is checked against that upstream's key, and runs.
  await second.plan([stage("d", 1, ["b"])]);
  await second.run(stage("d", 1, ["b"]));
  assert.deepEqual(writes, ["c", "d"]);
  // A stage whose upstream this runner has not run is still refused.
  await assert.rejects(() => new StageRunner(dir).plan([stage("d", 1, ["b"])]), /needs 'b'/);
  await Deno.remove(dir, { recursive: true });
});
