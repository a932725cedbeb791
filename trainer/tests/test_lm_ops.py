"""The torch backend's ops: the ported random stream, the selection rule, scoring and sampling."""

from __future__ import annotations

import base64
import math

import numpy as np
import pytest
import torch

from cdpo_trainer.lm.kit_random import KitRandom, hash_seed
from cdpo_trainer.lm.ops import OPS
from cdpo_trainer.lm.select import select_token
from cdpo_trainer.lm.torch_lm import TorchLM
from cdpo_trainer.models.tiny_llama import TinyLlamaSpec, build_tiny_llama


@pytest.fixture(scope="module")
def lm(tmp_path_factory):
    return TorchLM(str(build_tiny_llama(tmp_path_factory.mktemp("tiny"), TinyLlamaSpec(seed=5))), device="cpu")


def test_kit_random_matches_the_typescript_generator():
    # Values printed by src/random.ts: new Random(7).nextUint32() x3, hashSeed(5, 0, 1), Random.derive(5, 0, 1).next().
    r = KitRandom(7)
    assert [r.next_uint32() for _ in range(3)] == [1004282400, 2200021487, 1928073449]
    assert hash_seed(5, 0, 1) == 2893073235
    assert KitRandom.derive(5, 0, 1).next() == 0.033173228381201625


def test_select_token_hand_derived():
    # logits log(1), log(2), log(3): weights 1, 2, 3 (total 6) at temperature 1, walked in id order;
    # csum = 1, 3, 6 and the winner is the first csum > 6u.
    z = np.log(np.array([1.0, 2.0, 3.0], np.float32))
    assert [select_token(z, 1.0, 1.0, [], u) for u in (0.1, 0.2, 0.5, 0.99)] == [0, 1, 2, 2]
    # top_p 0.5: sorted weights 3, 2, 1 (csum 3, 5, 6); 3 >= 0.5 * 6 so only id 2 is kept.
    assert {select_token(z, 1.0, 0.5, [], u) for u in (0.0, 0.5, 0.999)} == {2}
    # top_p 0.6: threshold 3.6 keeps ids 2, 1 (mass 5): u 0.59 -> 2.95 < 3 -> id 2; u 0.61 -> 3.05 -> id 1.
    assert select_token(z, 1.0, 0.6, [], 0.59) == 2 and select_token(z, 1.0, 0.6, [], 0.61) == 1
    # Banning id 2 leaves weights 1, 2: u 0.4 -> target 1.2 > 1 -> id 1.
    assert select_token(z, 1.0, 1.0, [2], 0.4) == 1
    # Greedy: argmax, and the ban moves it to the runner-up; ties go to the lowest id.
    assert select_token(z, 0.0, 1.0, [], 0.7) == 2 and select_token(z, 0.0, 1.0, [2], 0.7) == 1
    assert select_token(np.zeros(4, np.float32), 0.0, 1.0, [0], 0.5) == 1
    with pytest.raises(ValueError, match="banned"):
        select_token(z, 1.0, 1.0, [0, 1, 2], 0.5)


def test_score_is_unaffected_by_padding_and_batching(lm):
    items = [{"prompt": [2, 9, 10], "continuation": [11, 12, 13, 3]}, {"prompt": [2], "continuation": [50]}]
    batched = lm.score(items)
    for item, got in zip(items, batched):
        seq = item["prompt"] + item["continuation"]
        with torch.no_grad():
            logp = torch.log_softmax(lm.model(torch.tensor([seq])).logits[0], -1)
        p = len(item["prompt"])
        ref = [logp[p - 1 + t, tok].item() for t, tok in enumerate(item["continuation"])]
        assert np.allclose(got, ref, atol=1e-5)


def test_greedy_cached_decode_equals_full_recomputation(lm):
    samples = lm.sample([{"tokens": [2, 30, 31]}, {"tokens": [2]}], n=1, temperature=0.0, top_p=1.0,
                        max_new_tokens=10, seed=0, stop_token_ids=[], stop_strings=[], ignore_eos=True)
    for prompt, s in zip([[2, 30, 31], [2]], samples):
        seq = prompt + s["tokens"]
        with torch.no_grad():
            logits = lm.model(torch.tensor([seq])).logits[0]
        expected = logits[len(prompt) - 1: -1].argmax(-1).tolist()
        assert s["tokens"] == expected
        logp = torch.log_softmax(logits.double(), -1)
        ref = [logp[len(prompt) - 1 + t, tok].item() for t, tok in enumerate(s["tokens"])]
        assert np.allclose(s["logprobs"], ref, atol=1e-5)


def test_sampling_is_seeded_and_mask_first_bans(lm):
    args = dict(n=4, temperature=1.0, top_p=0.95, max_new_tokens=6, stop_token_ids=[], stop_strings=[], ignore_eos=False)
    a = lm.sample([{"tokens": [2, 5]}], seed=1, **args)
    b = lm.sample([{"tokens": [2, 5]}], seed=1, **args)
    c = lm.sample([{"tokens": [2, 5]}], seed=2, **args)
    assert [s["tokens"] for s in a] == [s["tokens"] for s in b] != [s["tokens"] for s in c]
    greedy = lm.sample([{"tokens": [2, 5]}], seed=0, **{**args, "n": 1, "temperature": 0.0})[0]["tokens"][0]
    masked = lm.sample([{"tokens": [2, 5], "mask_first": [greedy]}], seed=3, **{**args, "n": 20, "temperature": 3.0})
    assert all(s["tokens"][0] != greedy for s in masked)


def test_bad_input_names_the_item(lm):
    with pytest.raises(ValueError, match="item 1 continuation: token 0 is 999"):
        lm.score([{"prompt": [2], "continuation": [4]}, {"prompt": [2], "continuation": [999]}])
    with pytest.raises(ValueError, match="empty"):
        lm.score([])
    with pytest.raises(ValueError, match="item 0: 200 tokens exceed the context of 128"):
        lm.score([{"prompt": [2] * 100, "continuation": [4] * 100}])
    with pytest.raises(ValueError, match="prompt 0: 128 tokens leave no room"):
        lm.sample([{"tokens": [2] * 128}], 1, 1.0, 1.0, 4, 0, [], [], False)
    with pytest.raises(FileNotFoundError, match="config.json"):
        TorchLM("/nonexistent/model")


def test_ops_load_distributions_and_unload(lm):
    emitted = []
    loaded = OPS["lm_load"]({"model_dir": str(lm.path), "device": "cpu", "dtype": "auto"}, lambda *a, **k: emitted.append(k))
    h = loaded["handle"]
    res = OPS["lm_distributions"]({"handle": h, "items": [{"tokens": [2, 7, 8], "positions": [0, 1]}]}, None)
    rows = np.frombuffer(base64.b64decode(res["rows"][0]), "<f4").reshape(2, loaded["vocab_size"])
    assert np.allclose(np.exp(rows.astype(np.float64)).sum(-1), 1.0, atol=1e-5)
    # Row k is the distribution after tokens[positions[k]]: it must contain the scores of 7 and 8.
    score = OPS["lm_score"]({"handle": h, "items": [{"prompt": [2], "continuation": [7, 8]}]}, None)["logprobs"][0]
    assert math.isclose(rows[0, 7], score[0], abs_tol=1e-5) and math.isclose(rows[1, 8], score[1], abs_tol=1e-5)
    OPS["lm_unload"]({"handle": h}, None)
    with pytest.raises(ValueError, match="unknown model handle"):
        OPS["lm_score"]({"handle": h, "items": []}, None)


def test_gpu_check_script_runs_tiny_on_cpu():
    """scripts/gpu-check.sh --tiny runs the same TorchLM code on CPU and prints one JSON report."""
    import json
    import subprocess
    import sys
    from pathlib import Path

    script = Path(__file__).resolve().parents[2] / "scripts" / "gpu-check.sh"
    out = subprocess.run(["bash", str(script), "--tiny"], capture_output=True, text=True, timeout=300,
                         env={"PYTHON": sys.executable, "PATH": "/usr/bin:/bin"})
    assert out.returncode == 0, out.stderr[-2000:]
    report = json.loads(out.stdout.strip().splitlines()[-1])
    assert report["device"] == "cpu" and report["score_mfu"] is None
    assert report["score_tok_s"] > 0 and report["sample_tok_s"] > 0
    # Contrastive scoring and a LoRA cDPO step ran through the trainer's own code; no GPU, no utilisation.
    assert report["contrastive_tok_s"] > 0 and report["train_step_s"] > 0 and report["train_tok_s"] > 0
    assert report["gpu_util_pct"] == {"score": None, "sample": None, "contrastive": None, "train_step": None}


def test_forward_flops_hand_count():
    """One layer, d=4, 2 heads of 2, 1 kv head, ffn 8, vocab 10, context 6, counted by hand:
    matmul params = q 16 + k,v 2*8 + o 16 + mlp 3*32 = 144, plus head 40 -> 2*184 = 368;
    attention 2*2*1*4*(6/2) = 48; total 416."""
    import importlib.util
    from pathlib import Path
    from types import SimpleNamespace

    path = Path(__file__).resolve().parents[2] / "scripts" / "gpu_check.py"
    spec = importlib.util.spec_from_file_location("gpu_check", path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    cfg = SimpleNamespace(hidden_size=4, num_hidden_layers=1, vocab_size=10, num_attention_heads=2,
                          num_key_value_heads=1, intermediate_size=8, head_dim=2)
    assert mod.forward_flops_per_token(cfg, 6) == 416


def test_select_tokens_picks_what_select_token_picks_row_by_row():
    """The batched rule against the scalar one, on rows with many tied weights (ties decide ids)."""
    from cdpo_trainer.lm.select import select_tokens

    rng = np.random.default_rng(11)
    for trial in range(60):
        V = int(rng.integers(2, 80))
        logits = (rng.integers(0, 5, size=(6, V)) * 0.5).astype(np.float32)
        temperature = [0.0, 0.7, 1.0, 1.6][trial % 4]
        top_p = [1.0, 0.9, 0.5, 0.2][(trial // 4) % 4]
        banned = [[int(b) for b in rng.choice(V, size=min(V - 1, 2), replace=False)] if k % 3 == 0 else [] for k in range(6)]
        us = [float(u) for u in rng.random(6)]
        expected = [select_token(logits[k], temperature, top_p, banned[k], us[k]) for k in range(6)]
        assert select_tokens(logits, temperature, top_p, banned, us) == expected, trial


def test_samples_do_not_depend_on_batching_or_finished_rows(lm):
    """Prefix sharing, early-finishing rows leaving the batch and request splitting change nothing:
    every (prompt, sample) row draws from its own stream and sees only its own context."""
    args = dict(n=3, temperature=1.0, top_p=0.9, max_new_tokens=8, seed=4, stop_strings=[], ignore_eos=True)
    prompts = [{"tokens": [2, 7, 8, 9, 10]}, {"tokens": [2, 40], "forced_prefix": [41, 42]}, {"tokens": [2]}]
    together = lm.sample(prompts, stop_token_ids=[], **args)
    alone = [s for i, p in enumerate(prompts) for s in lm.sample([{**p, "index": i}], stop_token_ids=[], **args)]
    strip = lambda samples: [{k: v for k, v in s.items() if k != "logprobs"} for s in samples]
    assert strip(together) == strip(alone)
    # Log-probs agree to float32 rounding (padding changes the kernels' summation order).
    for a, b in zip(together, alone):
        assert np.allclose(a["logprobs"], b["logprobs"], atol=1e-5)
    # Stopping at a frequent token ends rows early; each row is then a prefix of its free run.
    frequent = max(set(t for s in together for t in s["tokens"]), key=lambda t: sum(s["tokens"].count(t) for s in together))
    stopped = lm.sample(prompts, stop_token_ids=[frequent], **args)
    assert any(s["stop_reason"] == "stop_token" for s in stopped)
    for free, cut in zip(together, stopped):
        assert free["tokens"][: len(cut["tokens"])] == cut["tokens"]
        assert (cut["stop_reason"] == "stop_token") == (frequent in free["tokens"])


def test_prefixes_of_one_trajectory_reuse_its_prefill(lm):
    """Rollouts send every prefix of a trajectory: the shared prefill must give each prefix what
    sampling it alone gives (same tokens; log-probs to float rounding)."""
    prompt, response = [2, 11, 12], [13, 14, 15, 16]
    prompts = [{"tokens": prompt, "forced_prefix": response[:L], "index": L} for L in range(len(response) + 1)]
    prompts.append({"tokens": [2, 30], "index": 9})  # unrelated to the others
    args = dict(n=2, temperature=1.0, top_p=0.95, max_new_tokens=6, seed=8, stop_token_ids=[], stop_strings=[],
                ignore_eos=True)
    shared = lm.sample(prompts, **args)
    alone = [s for p in prompts for s in lm.sample([p], **args)]
    assert [s["tokens"] for s in shared] == [s["tokens"] for s in alone]
    for a, b in zip(shared, alone):
        assert np.allclose(a["logprobs"], b["logprobs"], atol=1e-5)
