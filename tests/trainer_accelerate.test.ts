/**
 * The trainer started from an accelerate config, from the kit's side: two CPU ranks answer as one
 * trainer (rank 0 speaks, `hello` reports both), close leaves no process, and a config naming more
 * processes than the machine has devices is a TrainerError whose message is the launcher's one line.
 * (The loss curves under two ranks are tested in trainer/tests/test_distributed.py.)
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { kitPaths } from "../src/paths.ts";
import { Trainer } from "../src/trainer/client.ts";
import { TrainerError } from "../src/trainer/errors.ts";

Deno.test("trainer under accelerate: two CPU ranks answer as one; a bad config is one line", async () => {
  const trainer = await Trainer.start({
    accelerateConfig: join(kitPaths.trainer, "accelerate", "cpu-ddp2.yaml"),
  });
  const hello = await trainer.request("hello");
  assert.equal(hello.ranks, 2);
  assert.equal((await trainer.request("hello")).ranks, 2, "the ranks keep serving");
  await trainer.close();
  // Both ranks leave the process group before exiting; without that, interpreter exit sometimes
  // aborted rank 0 and the launcher exited 1. The launcher's stderr carries every rank's.
  assert.equal(
    trainer.exitCode,
    0,
    `the launcher exited ${trainer.exitCode}:\n${trainer.stderrTail}`,
  );

  const dir = await Deno.makeTempDir();
  const config = join(dir, "gpu4.yaml");
  await Deno.writeTextFile(
    config,
    "distributed_type: MULTI_GPU\nnum_processes: 4\nuse_cpu: false\n",
  );
  try {
    await assert.rejects(() => Trainer.start({ accelerateConfig: config }), (e: Error) => {
      assert.ok(e instanceof TrainerError);
      assert.match(
        e.message,
        new RegExp(
          `^Cannot launch the trainer: accelerate config ${config} names 4 processes \\(num_processes\\) for MULTI_GPU, but this machine has \\d usable CUDA devices?; set num_processes to at most \\d, or use a MULTI_CPU config$`,
        ),
      );
      return true;
    });
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
