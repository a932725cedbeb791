/**
 * Contrastive estimation formed in the trainer (op lm_contrastive, used by scoreTokens when the
 * positive and negative models live in one trainer) against the kit's own formula on the full
 * distributions: the same numbers, from two tiny random models served by the real trainer; and the
 * ONNX backend, which shares no code with either, within its usual tolerance.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { createTinyModel, OrtLanguageModel, TorchLanguageModel } from "../src/lm/mod.ts";
import { contrastiveScores, scoreTokens } from "../src/method/contrastive.ts";
import { Trainer } from "../src/trainer/client.ts";

Deno.test("contrastive scores in the trainer equal the formula on full distributions", async () => {
  const dir = await Deno.makeTempDir({ prefix: "ce-on-device-" });
  const [posDir, negDir] = [
    await createTinyModel(join(dir, "pos"), { seed: 1 }),
    await createTinyModel(join(dir, "neg"), { seed: 2 }),
  ];
  const trainer = await Trainer.start();
  const pos = await TorchLanguageModel.load(posDir, { trainer, device: "cpu" });
  const neg = await TorchLanguageModel.load(negDir, { trainer, device: "cpu" });
  const ortPos = await OrtLanguageModel.load(posDir, { threads: 1 });
  const ortNeg = await OrtLanguageModel.load(negDir, { threads: 1 });
  try {
    const prompts = [[2, 9, 10], [2], [2, 40, 41, 42]];
    const responses = [[11, 12, 13, 3], [20, 21], [50]];
    const items = prompts.map((prompt, i) => ({ prompt, continuation: responses[i] }));
    const beta = 1.5;
    const onDevice = await pos.contrastiveScores(neg, items, [beta, 0]);
    assert.ok(onDevice, "both models are in one trainer");
    const [dPos, dNeg] = [
      await pos.continuationDistributions(items),
      await neg.continuationDistributions(items),
    ];
    const V = pos.facts.vocabSize;
    items.forEach((it, i) => {
      const s = contrastiveScores(dPos[i], dNeg[i], it.continuation, V, beta);
      s.forEach((x, t) => assert.ok(Math.abs(x - onDevice![i].s[0][t]) < 1e-9, `item ${i} t ${t}`));
      // beta 0: the positive model's own probability of the token.
      const own = contrastiveScores(dPos[i], dNeg[i], it.continuation, V, 0);
      own.forEach((x, t) => assert.ok(Math.abs(x - onDevice![i].s[1][t]) < 1e-9));
      it.continuation.forEach((tok, t) => {
        assert.equal(onDevice![i].lpPos[t], dPos[i][t * V + tok]);
        assert.equal(onDevice![i].lpNeg[t], dNeg[i][t * V + tok]);
      });
    });
    // scoreTokens takes the trainer's path for torch models and the kit's for ONNX ones.
    const viaTrainer = await scoreTokens({ policy: pos, pos, neg }, prompts, responses, beta, [2]);
    const viaKit = await scoreTokens(
      { policy: ortPos, pos: ortPos, neg: ortNeg },
      prompts,
      responses,
      beta,
      [2],
    );
    viaTrainer.forEach((r, i) => {
      r.s.forEach((x, t) => assert.ok(Math.abs(x - viaKit[i].s[t]) < 1e-4, `item ${i} t ${t}`));
      r.sweep[0].forEach((x, t) => assert.ok(Math.abs(x - viaKit[i].sweep[0][t]) < 1e-4));
    });
    // Models in different trainers cannot meet there: the kit computes from distributions.
    const other = await TorchLanguageModel.load(negDir, { device: "cpu" });
    assert.equal(await pos.contrastiveScores(other, items, [beta]), null);
    await other.close();
  } finally {
    await ortPos.close();
    await ortNeg.close();
    await pos.close();
    await neg.close();
    await trainer.close();
    await Deno.remove(dir, { recursive: true });
  }
});
