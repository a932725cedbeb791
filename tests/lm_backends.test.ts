/**
 * The two LanguageModel backends on one random tiny Llama: onnxruntime-node (the exported graph)
 * against transformers in the trainer process. They share no forward-pass code, so agreement
 * checks both, and the KV-cache decoding path is checked against full recomputation.
 */
import assert from "node:assert/strict";
import {
  createTinyModel,
  LmInputError,
  ModelFileError,
  OrtLanguageModel,
  type ScoreItem,
  TorchLanguageModel,
} from "../src/lm/mod.ts";
import { Random } from "../src/random.ts";

const EOS = 3; // tiny_llama.py fixes <pad> 0, <unk> 1, <s> 2, </s> 3

function maxDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  assert.equal(a.length, b.length);
  let d = 0;
  for (let i = 0; i < a.length; i++) d = Math.max(d, Math.abs(a[i] - b[i]));
  return d;
}

function argmaxRow(rows: Float32Array, t: number, vocab: number, banned: number[] = []): number {
  let best = -1;
  for (let v = 0; v < vocab; v++) {
    if (banned.includes(v)) continue;
    if (best < 0 || rows[t * vocab + v] > rows[t * vocab + best]) best = v;
  }
  return best;
}

Deno.test("lm backends: ort and torch agree; sampling, masks, stops and errors", async (t) => {
  const dir = await Deno.makeTempDir({ prefix: "lm-backends-" });
  await createTinyModel(dir, { seed: 3 });
  const ort = await OrtLanguageModel.load(dir, { threads: 1, batchSize: 4, sampleBatchSize: 5 });
  const torch = await TorchLanguageModel.load(dir, { device: "cpu", batchSize: 4 });
  const V = ort.facts.vocabSize;
  const rng = new Random(42);
  const randomTokens = (n: number) => Array.from({ length: n }, () => rng.int(4, V - 1));
  const items: ScoreItem[] = Array.from({ length: 9 }, (_, i) => ({
    prompt: [2, ...randomTokens(rng.int(0, 12))],
    continuation: randomTokens(i === 0 ? 0 : rng.int(1, 20)),
  }));
  try {
    await t.step(
      "per-token log-probs agree within 1e-4 (mixed lengths, several batches)",
      async () => {
        const a = await ort.scoreContinuations(items);
        const b = await torch.scoreContinuations(items);
        items.forEach((it, i) => {
          assert.equal(a[i].length, it.continuation.length);
          assert.ok(maxDiff(a[i], b[i]) < 1e-4, `item ${i}: ${maxDiff(a[i], b[i])}`);
        });
      },
    );

    await t.step(
      "continuation distributions: normalised, contain the scores, agree across backends",
      async () => {
        const sub = items.slice(1, 5);
        const [da, db, scores] = [
          await ort.continuationDistributions(sub),
          await torch.continuationDistributions(sub),
          await ort.scoreContinuations(sub),
        ];
        sub.forEach((it, i) => {
          assert.equal(da[i].length, it.continuation.length * V);
          assert.ok(maxDiff(da[i], db[i]) < 1e-4);
          it.continuation.forEach((tok, k) => {
            let mass = 0;
            for (let v = 0; v < V; v++) mass += Math.exp(da[i][k * V + v]);
            assert.ok(Math.abs(mass - 1) < 1e-5);
            assert.ok(Math.abs(da[i][k * V + tok] - scores[i][k]) < 1e-6);
          });
        });
        const [one] = await ort.nextTokenDistributions([{
          tokens: [2, 9, 10, 11],
          positions: [2],
        }]);
        const [viaScore] = await ort.scoreContinuations([{
          prompt: [2, 9, 10],
          continuation: [42],
        }]);
        assert.ok(Math.abs(one[42] - viaScore[0]) < 1e-6);
      },
    );

    const prompts = [[2, 5, 6, 7, 8, 9], [2], [2, 40, 41]]; // different lengths: left padding
    await t.step(
      "greedy decodes are identical across backends and equal full recomputation",
      async () => {
        const opts = { prompts, temperature: 0, maxNewTokens: 15, seed: 0, ignoreEos: true };
        const a = await ort.sample(opts);
        const b = await torch.sample(opts);
        assert.deepEqual(a.map((s) => s.tokens), b.map((s) => s.tokens));
        // KV-cache decoding vs one full forward pass over prompt + generated tokens.
        const full = prompts.map((p, i) => ({ prompt: p, continuation: a[i].tokens }));
        const dists = await ort.continuationDistributions(full);
        const scores = await ort.scoreContinuations(full);
        a.forEach((s, i) => {
          s.tokens.forEach((tok, k) =>
            assert.equal(tok, argmaxRow(dists[i], k, V), `prompt ${i} step ${k}`)
          );
          assert.ok(maxDiff(s.logprobs, scores[i]) < 1e-5);
        });
      },
    );

    await t.step(
      "seeded sampling: reproducible, seed-sensitive, batch-independent, same across backends",
      async () => {
        const opts = { prompts, n: 4, temperature: 1, topP: 0.9, maxNewTokens: 12, seed: 7 };
        const a = await ort.sample(opts);
        const again = await ort.sample(opts);
        assert.deepEqual(a, again);
        const other = await ort.sample({ ...opts, seed: 8 });
        assert.notDeepEqual(a.map((s) => s.tokens), other.map((s) => s.tokens));
        // sampleBatchSize 5 split the 12 rows into 3 batches; one batch must give the same samples.
        const wide = await OrtLanguageModel.load(dir, { sampleBatchSize: 64 });
        assert.deepEqual((await wide.sample(opts)).map((s) => s.tokens), a.map((s) => s.tokens));
        await wide.close();
        // A v1 export (no decode or score graph) samples and scores through the main graph: same
        // tokens, and the same log-probs as the score graph.
        const v1 = await Deno.makeTempDir({ prefix: "lm-v1-" });
        const meta = JSON.parse(await Deno.readTextFile(`${dir}/model.onnx.json`));
        const files = ["config.json", "tokenizer.json", "tokenizer_config.json", "model.onnx"];
        for (const f of [...files, meta.data_file]) {
          await Deno.copyFile(`${dir}/${f}`, `${v1}/${f}`);
        }
        assert.equal(meta.decode_graph, "model.decode.onnx");
        assert.equal(meta.score_graph, "model.score.onnx");
        delete meta.decode_graph;
        delete meta.score_graph;
        await Deno.writeTextFile(
          `${v1}/model.onnx.json`,
          JSON.stringify({ ...meta, format_version: 1 }),
        );
        const old = await OrtLanguageModel.load(v1, { sampleBatchSize: 3 });
        const viaMain = await old.sample(opts);
        assert.deepEqual(viaMain.map((s) => s.tokens), a.map((s) => s.tokens));
        a.forEach((s, i) => assert.ok(maxDiff(s.logprobs, viaMain[i].logprobs) < 1e-5));
        const [scoreGraph, mainGraph] = [
          await ort.scoreContinuations(items),
          await old.scoreContinuations(items),
        ];
        items.forEach((_, i) => assert.ok(maxDiff(scoreGraph[i], mainGraph[i]) < 1e-5));
        const sub = items.slice(1, 4);
        const [rowsScore, rowsMain] = [
          await ort.continuationDistributions(sub),
          await old.continuationDistributions(sub),
        ];
        sub.forEach((_, i) => assert.ok(maxDiff(rowsScore[i], rowsMain[i]) < 1e-5));
        await old.close();
        await Deno.remove(v1, { recursive: true });
        const b = await torch.sample(opts);
        assert.deepEqual(b.map((s) => s.tokens), a.map((s) => s.tokens));
        a.forEach((s, i) => assert.ok(maxDiff(s.logprobs, b[i].logprobs) < 1e-4));
        assert.deepEqual(a.map((s) => [s.promptIndex, s.sampleIndex]).slice(0, 5), [
          [0, 0],
          [0, 1],
          [0, 2],
          [0, 3],
          [1, 0],
        ]);
        // A piece of the request (its last two prompts) continues the whole request's streams on
        // both backends, and its samples say which of the piece's prompts they answer.
        for (const lm of [ort, torch]) {
          const piece = await lm.sample({
            ...opts,
            prompts: prompts.slice(1),
            firstPromptIndex: 1,
          });
          assert.deepEqual(piece.map((s) => s.tokens), a.slice(4).map((s) => s.tokens));
          assert.deepEqual(
            piece.map((s) => s.promptIndex),
            a.slice(4).map((s) => s.promptIndex - 1),
          );
        }
      },
    );

    await t.step(
      "maskFirst bans the token at the first position only; tiny topP is greedy",
      async () => {
        const [greedy] = await ort.sample({
          prompts: [[2, 5]],
          temperature: 0,
          maxNewTokens: 4,
          seed: 0,
          ignoreEos: true,
        });
        const first = greedy.tokens[0];
        const masked = await ort.sample({
          prompts: [[2, 5]],
          n: 40,
          temperature: 2,
          maxNewTokens: 1,
          seed: 1,
          maskFirst: [first],
        });
        assert.ok(masked.every((s) => s.tokens[0] !== first));
        // Greedy with the ban picks the runner-up of the unmasked distribution.
        const [dist] = await ort.nextTokenDistributions([{ tokens: [2, 5], positions: [1] }]);
        const [alt] = await torch.sample({
          prompts: [{ tokens: [2, 5], maskFirst: [first] }],
          temperature: 0,
          maxNewTokens: 1,
          seed: 0,
        });
        assert.equal(alt.tokens[0], argmaxRow(dist, 0, V, [first]));
        // A forced prefix continues from the given tokens: same as putting them in the prompt.
        const forced = await ort.sample({
          prompts: [{ tokens: [2], forcedPrefix: [5] }],
          temperature: 0,
          maxNewTokens: 4,
          seed: 0,
          ignoreEos: true,
        });
        assert.deepEqual(forced[0].tokens, greedy.tokens);
        const nucleus = await ort.sample({
          prompts: [[2, 5]],
          n: 5,
          temperature: 1,
          topP: 1e-6,
          maxNewTokens: 4,
          seed: 9,
          ignoreEos: true,
        });
        for (const s of nucleus) assert.deepEqual(s.tokens, greedy.tokens);
      },
    );

    await t.step("EOS, stop tokens and stop strings end a sample and are kept", async () => {
      const hot = await ort.sample({
        prompts: [[2]],
        n: 48,
        temperature: 3,
        maxNewTokens: 40,
        seed: 11,
      });
      const ended = hot.filter((s) => s.stopReason === "eos");
      assert.ok(
        ended.length > 0,
        "a flat distribution over 128 tokens hits EOS within 40 steps for some of 48 samples",
      );
      for (const s of hot) {
        assert.equal(s.tokens.indexOf(EOS), s.stopReason === "eos" ? s.tokens.length - 1 : -1);
        if (s.stopReason === "length") assert.equal(s.tokens.length, 40);
      }
      const [greedy] = await ort.sample({
        prompts: [[2, 40, 41]],
        temperature: 0,
        maxNewTokens: 15,
        seed: 0,
        ignoreEos: true,
      });
      const stopAt = greedy.tokens[5];
      const cut = greedy.tokens.indexOf(stopAt) + 1;
      for (const lm of [ort, torch]) {
        const [s] = await lm.sample({
          prompts: [[2, 40, 41]],
          temperature: 0,
          maxNewTokens: 15,
          seed: 0,
          ignoreEos: true,
          stopTokenIds: [stopAt],
        });
        assert.deepEqual([s.tokens, s.stopReason], [greedy.tokens.slice(0, cut), "stop_token"]);
        const word = lm.detokenize([stopAt]);
        const [w] = await lm.sample({
          prompts: [[2, 40, 41]],
          temperature: 0,
          maxNewTokens: 15,
          seed: 0,
          ignoreEos: true,
          stopStrings: [word],
        });
        assert.equal(w.stopReason, "stop_string");
        assert.ok(
          lm.detokenize(w.tokens).includes(word) &&
            !lm.detokenize(w.tokens.slice(0, -1)).includes(word),
        );
      }
    });

    await t.step("tokenize and detokenize round-trip; unknown words map to <unk>", () => {
      const ids = ort.tokenize("w5 w6 </s>");
      assert.deepEqual(ids, [5, 6, EOS]);
      assert.equal(ort.detokenize(ids), "w5 w6 </s>");
      assert.deepEqual(ort.tokenize("w5 nonsense"), [5, 1]);
      assert.deepEqual(torch.tokenize("w7"), [7]);
    });

    await t.step("bad input names the item; bad files name the path", async () => {
      for (const lm of [ort, torch]) {
        await assert.rejects(
          lm.scoreContinuations([{ prompt: [2], continuation: [4] }, {
            prompt: [2],
            continuation: [4, V],
          }]),
          (e) =>
            e instanceof LmInputError && e.index === 1 &&
            /item 1 continuation: token 1 is 128/.test(e.message),
        );
        await assert.rejects(lm.scoreContinuations([]), /batch is empty/);
        await assert.rejects(
          lm.scoreContinuations([{ prompt: [2], continuation: [4] }, {
            prompt: new Array(100).fill(2),
            continuation: new Array(29).fill(4),
          }]),
          (e) =>
            e instanceof LmInputError && e.index === 1 &&
            /129 tokens exceed the context of 128/.test(e.message),
        );
        await assert.rejects(
          lm.scoreContinuations([{ prompt: [], continuation: [4] }]),
          /item 0: the prompt is empty/,
        );
        await assert.rejects(
          lm.sample({ prompts: [[2], [2, -1]], maxNewTokens: 2, seed: 0 }),
          /prompt 1: token 1 is -1/,
        );
        await assert.rejects(
          lm.sample({ prompts: [new Array(128).fill(2)], maxNewTokens: 2, seed: 0 }),
          /no room to generate/,
        );
        await assert.rejects(
          lm.nextTokenDistributions([{ tokens: [2, 3], positions: [2] }]),
          /position 2 is outside \[0, 2\)/,
        );
      }
      await assert.rejects(
        OrtLanguageModel.load(`${dir}/nowhere`),
        (e) => e instanceof ModelFileError && e.path === `${dir}/nowhere/model.onnx`,
      );
      // A graph the metadata names is missing, or a graph is not a protobuf: the error names it.
      const broken = await Deno.makeTempDir({ prefix: "lm-broken-" });
      const { data_file: dataFile } = JSON.parse(await Deno.readTextFile(`${dir}/model.onnx.json`));
      for (
        const f of [
          "config.json",
          "tokenizer.json",
          "tokenizer_config.json",
          "model.onnx.json",
          "model.onnx",
          "model.decode.onnx",
        ]
      ) {
        await Deno.copyFile(`${dir}/${f}`, `${broken}/${f}`);
      }
      const named = (path: string) => (e: unknown) =>
        e instanceof ModelFileError && e.path === path && e.message.includes(path);
      // The weights the graphs share: missing, the error names the file (not the first graph).
      await assert.rejects(OrtLanguageModel.load(broken), named(`${broken}/${dataFile}`));
      await Deno.copyFile(`${dir}/${dataFile}`, `${broken}/${dataFile}`);
      await assert.rejects(OrtLanguageModel.load(broken), named(`${broken}/model.score.onnx`));
      await Deno.writeTextFile(`${broken}/model.score.onnx`, "not a protobuf");
      await assert.rejects(OrtLanguageModel.load(broken), named(`${broken}/model.score.onnx`));
      const meta = JSON.parse(await Deno.readTextFile(`${dir}/model.onnx.json`));
      await Deno.writeTextFile(
        `${broken}/model.onnx.json`,
        JSON.stringify({ ...meta, format_version: 1, decode_graph: null, score_graph: null }),
      );
      await Deno.writeTextFile(`${broken}/model.onnx`, "not a protobuf");
      await assert.rejects(OrtLanguageModel.load(broken), named(`${broken}/model.onnx`));
      // Without onnxruntime's CUDA provider library (this kit's default install) the error says what is missing.
      const cuda = await OrtLanguageModel.load(dir, { executionProvider: "cuda" }).catch((e) =>
        e as Error
      );
      if (cuda instanceof Error) {
        assert.match(cuda.message, /CUDA execution provider.*libonnxruntime_providers_cuda/);
      } else await cuda.close();
      await Deno.remove(broken, { recursive: true });
    });
  } finally {
    await ort.close();
    await torch.close();
    await Deno.remove(dir, { recursive: true });
  }
});
