"""lm_contrastive: s_t formed on the device must equal the formula applied to the two models'
full distributions (lm_distributions), computed here independently in float64 numpy."""

from __future__ import annotations

import base64

import numpy as np

from cdpo_trainer.lm.ops import OPS
from cdpo_trainer.models.tiny_llama import TinyLlamaSpec, build_tiny_llama


def test_contrastive_op_equals_the_formula_on_full_distributions(tmp_path):
    pos = OPS["lm_load"]({"model_dir": str(build_tiny_llama(tmp_path / "pos", TinyLlamaSpec(seed=5))), "device": "cpu", "dtype": "float32"}, None)
    neg = OPS["lm_load"]({"model_dir": str(build_tiny_llama(tmp_path / "neg", TinyLlamaSpec(seed=6))), "device": "cpu", "dtype": "float32"}, None)
    items = [{"prompt": [2, 9], "continuation": [7, 8, 11, 3]}, {"prompt": [2], "continuation": [12]},
             {"prompt": [2, 4, 5], "continuation": []}]
    betas = [1.5, 0.0]
    got = OPS["lm_contrastive"]({"pos": pos["handle"], "neg": neg["handle"], "items": items, "betas": betas}, None)["scores"]
    assert [[len(s) for s in g["s"]] for g in got] == [[4, 4], [1, 1], [0, 0]]
    for item, g in zip(items[:2], got):
        p, c = item["prompt"], item["continuation"]
        dist = {"tokens": p + c[:-1], "positions": [len(p) - 1 + t for t in range(len(c))]}
        rows = []
        for h in (pos["handle"], neg["handle"]):
            res = OPS["lm_distributions"]({"handle": h, "items": [dist]}, None)
            rows.append(np.frombuffer(base64.b64decode(res["rows"][0]), "<f4").reshape(len(c), -1).astype(np.float64))
        for k, beta in enumerate(betas):
            z = (1 + beta) * rows[0] - beta * rows[1]  # [T, V]
            z -= z.max(axis=1, keepdims=True)
            s = np.exp(z[np.arange(len(c)), c]) / np.exp(z).sum(axis=1)
            assert np.allclose(g["s"][k], s, atol=1e-6)
        # beta 0 is the positive model's own probability of the token.
        assert np.allclose(g["s"][1], np.exp(rows[0][np.arange(len(c)), c]), atol=1e-6)
        assert np.allclose(g["lp_pos"], rows[0][np.arange(len(c)), c], atol=1e-6)
        assert np.allclose(g["lp_neg"], rows[1][np.arange(len(c)), c], atol=1e-6)
        assert all(0 < x < 1 for x in g["s"][0])
