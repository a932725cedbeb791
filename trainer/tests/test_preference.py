"""The `preference` op end to end on a tiny random Llama: every objective trains, LoRA trains its
adapter, runs are deterministic, resume is bit-exact, checkpoints and the cache are as documented,
and bad input fails before any step."""

from __future__ import annotations

import json
import math
import shutil
from pathlib import Path

import pytest
import torch
from safetensors.torch import load_file

from _train_helpers import OBJECTIVES, lora, tiny_llama, train_params, write_pairs
from cdpo_trainer.train.ops import OPS


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    root = tmp_path_factory.mktemp("pref")
    return {"model": tiny_llama(root / "model"), "pairs": write_pairs(root / "pairs.jsonl", n=6), "root": root}


def params(world, out: Path, **kw):
    return train_params("preference", world["model"], world["pairs"], out, **kw)


def run(p, events=None):
    def emit(type_, **fields):
        if events is not None:
            events.append((type_, fields))

    return OPS["preference"](p, emit)


def weights(model_dir) -> dict[str, torch.Tensor]:
    return load_file(str(Path(model_dir) / "model.safetensors"))


def metric_lines(out: Path) -> list[dict]:
    return [json.loads(line) for line in (out / "metrics.jsonl").read_text().splitlines()]


@pytest.mark.parametrize(
    "objective,form", [("dpo", "sequence"), ("rpo", "sequence"), ("tdpo1", "sequence"), ("tdpo2", "sequence"), ("cdpo", "sequence"), ("cdpo", "position")]
)
def test_every_objective_trains_every_parameter(world, tmp_path, objective, form):
    events = []
    result = run(params(world, tmp_path, objective={**OBJECTIVES[objective], **({'form': form} if objective == 'cdpo' else {})}), events)
    start, end = weights(world["model"]), weights(result["model_dir"])
    assert set(start) == set(end)
    unchanged = [k for k in start if torch.equal(start[k], end[k])]
    assert unchanged == []
    metrics = [f for t, f in events if t == "metric"]
    assert [m["step"] for m in metrics] == [1, 2, 3]
    assert metric_lines(tmp_path) == metrics
    for m in metrics:
        for key in ("loss", "reward_margin", "reward_accuracy", "logp_chosen", "logp_rejected", "grad_norm", "lr"):
            assert math.isfinite(m[key]), key
    # Step 1 scores the start model, which is the reference: every margin is 0 and the loss is
    # log 2 (RPO adds the chosen NLL). The reference comes from the disk cache for all but TDPO,
    # so this also checks the cache against the policy's own scoring.
    assert metrics[0]["reward_margin"] == pytest.approx(0.0, abs=1e-5)
    if objective != "rpo":
        assert metrics[0]["loss"] == pytest.approx(math.log(2), abs=1e-5)
    else:
        assert metrics[0]["loss"] > math.log(2) + 1.0


def test_lora_trains_every_adapter_parameter_and_saves_a_merged_model(world, tmp_path):
    from cdpo_trainer.train import loop
    from cdpo_trainer.train.config import from_params

    p = params(world, tmp_path, lora=lora(4, 8), checkpoint_every=3)
    result = run(p)
    # The adapter at initialisation, rebuilt the way the run built it (same seed, same code path).
    loop.seed_everything(0)
    initial = loop.build_policy(from_params(p, "preference"), world["model"])
    trained = load_file(str(tmp_path / "checkpoints" / "step-3" / "trainable.safetensors"))
    names = [n for n, _ in initial.trainable]
    assert names and all("lora_" in n for n in names)
    assert set(trained) == set(names)
    unchanged = [n for n, t in initial.trainable if torch.equal(t.detach(), trained[n])]
    assert unchanged == []
    # The saved model is a plain HF directory: base parameter names only, and the LoRA targets moved.
    start, end = weights(world["model"]), weights(result["model_dir"])
    assert set(end) == set(start)
    assert not torch.equal(start["model.layers.0.self_attn.q_proj.weight"], end["model.layers.0.self_attn.q_proj.weight"])
    assert torch.equal(start["model.embed_tokens.weight"], end["model.embed_tokens.weight"])  # not a LoRA target


def test_same_seed_same_bytes_different_seed_different_bytes(world, tmp_path):
    a = run(params(world, tmp_path / "a", lora=lora(4)))
    b = run(params(world, tmp_path / "b", lora=lora(4)))
    c = run(params(world, tmp_path / "c", lora=lora(4), seed=1))
    read = lambda r: (Path(r["model_dir"]) / "model.safetensors").read_bytes()  # noqa: E731
    assert read(a) == read(b)
    assert read(a) != read(c)  # the seed matters (data order, adapter init, dropout): the test can fail


class Interrupt(Exception):
    pass


@pytest.mark.parametrize("adapter", [None, lora(4, dropout=0.2)], ids=["full", "lora"])
def test_resume_after_interruption_gives_identical_weights(world, tmp_path, adapter):
    common = dict(steps=5, batch_size=4, checkpoint_every=2, lora=adapter, schedule="cosine", warmup_steps=1)
    full = run(params(world, tmp_path / "full", **common))

    def emit(type_, **fields):
        # Dies right after step 3's metric, past the step-2 checkpoint: step 3 must be redone.
        if type_ == "metric" and fields["step"] == 3:
            raise Interrupt()

    out = tmp_path / "interrupted"
    with pytest.raises(Interrupt):
        OPS["preference"](params(world, out, **common), emit)
    assert sorted(d.name for d in (out / "checkpoints").iterdir()) == ["step-2"]
    resumed = run(params(world, out, **common))
    assert resumed["resumed_from_step"] == 2
    assert (Path(resumed["model_dir"]) / "model.safetensors").read_bytes() == (
        Path(full["model_dir"]) / "model.safetensors"
    ).read_bytes()
    assert metric_lines(out) == metric_lines(tmp_path / "full")


def test_resume_in_a_moved_folder(world, tmp_path):
    # A run directory copied elsewhere: the same model, data and checkpoints at other paths.
    common = dict(objective=OBJECTIVES["dpo"], steps=4, batch_size=4, checkpoint_every=2)
    full = run(params(world, tmp_path / "full", **common))

    def emit(type_, **fields):
        if type_ == "metric" and fields["step"] == 3:
            raise Interrupt()

    with pytest.raises(Interrupt):
        OPS["preference"](params(world, tmp_path / "a" / "out", **common), emit)
    moved = tmp_path / "b"
    shutil.copytree(tmp_path / "a", moved)
    shutil.copytree(world["model"], moved / "model")
    shutil.copyfile(world["pairs"], moved / "pairs.jsonl")
    resumed = run({**params(world, moved / "out", **common), "model_dir": str(moved / "model"), "pairs_path": str(moved / "pairs.jsonl")})
    assert resumed["resumed_from_step"] == 2
    assert (Path(resumed["model_dir"]) / "model.safetensors").read_bytes() == (
        Path(full["model_dir"]) / "model.safetensors"
    ).read_bytes()


def test_resume_from_a_checkpoint_that_recorded_its_paths(world, tmp_path):
    # Checkpoints written before paths left the resume identity still resume.
    common = dict(objective=OBJECTIVES["dpo"], steps=2, batch_size=4, checkpoint_every=1)
    run(params(world, tmp_path, **common))
    for meta_path in (tmp_path / "checkpoints").glob("step-*/cdpo_checkpoint.json"):
        meta = json.loads(meta_path.read_text())
        meta["config"].update(model_dir="/elsewhere/model", data_path="/elsewhere/pairs.jsonl")
        meta_path.write_text(json.dumps(meta))
    assert run(params(world, tmp_path, **common))["resumed_from_step"] == 2


def test_resume_refuses_a_checkpoint_of_another_config(world, tmp_path):
    run(params(world, tmp_path, steps=2, checkpoint_every=1))
    with pytest.raises(ValueError, match="Cannot resume"):
        run(params(world, tmp_path, steps=2, checkpoint_every=1, objective={**OBJECTIVES['cdpo'], 'gamma': 0.5}))
    fresh = run(params(world, tmp_path, steps=2, checkpoint_every=1, objective={**OBJECTIVES['cdpo'], 'gamma': 0.5}, resume=False))
    assert fresh["resumed_from_step"] == 0


def test_checkpoint_layout(world, tmp_path):
    from transformers import AutoModelForCausalLM

    events = []
    result = run(params(world, tmp_path, steps=2, checkpoint_every=1), events)
    ckpts = [f for t, f in events if t == "checkpoint"]
    assert [c["step"] for c in ckpts] == [1, 2]
    assert result["checkpoints"] == [c["path"] for c in ckpts]
    d = Path(ckpts[1]["path"])
    assert d.name == "step-2"
    meta = json.loads((d / "cdpo_checkpoint.json").read_text())
    assert meta["step"] == 2
    assert meta["config"]["objective"]["name"] == "cdpo"
    assert len(meta["data_hash"]) == 64 and len(meta["model_hash"]) == 64
    for name in ("optimizer.safetensors", "rng.safetensors", "model.safetensors", "config.json"):
        assert (d / name).is_file(), name
    assert not any(p.suffix == ".pt" or p.suffix == ".bin" for p in d.iterdir())  # no pickle
    assert not [p for p in (tmp_path / "checkpoints").iterdir() if p.name.startswith(".tmp")]
    AutoModelForCausalLM.from_pretrained(str(d))  # a usable HF directory


def test_reference_cache_is_keyed_by_model_and_data(world, tmp_path):
    cache = tmp_path / "cache"
    run(params(world, tmp_path / "a", steps=1, ref_cache_dir=str(cache)))
    files = sorted(cache.iterdir())
    assert len(files) == 1
    stamp = files[0].stat().st_mtime_ns
    run(params(world, tmp_path / "b", steps=1, ref_cache_dir=str(cache)))
    assert sorted(cache.iterdir()) == files and files[0].stat().st_mtime_ns == stamp  # reused, not rewritten
    other = write_pairs(tmp_path / "other.jsonl", n=4, seed=9)
    run(params(world, tmp_path / "c", steps=1, ref_cache_dir=str(cache), pairs_path=str(other)))
    assert len(list(cache.iterdir())) == 2


def _write(path: Path, lines: list[str]) -> Path:
    path.write_text("".join(line + "\n" for line in lines))
    return path


GOOD = '{"prompt_ids": [1, 5], "chosen_ids": [6, 7], "rejected_ids": [8, 9], "rejected_weights": [0.5, 1.0]}'


@pytest.mark.parametrize(
    "bad_line,expected",
    [
        ('{"prompt_ids": [1], "chosen_ids": [], "rejected_ids": [8]}', r"pair 1 .*'chosen_ids' is empty"),
        ('{"prompt_ids": [1], "chosen_ids": [6], "rejected_ids": []}', r"pair 1 .*'rejected_ids' is empty"),
        ('{"prompt_ids": [1], "chosen_ids": [6], "rejected_ids": [8, 9], "rejected_weights": [1.0]}', r"pair 1 .*'rejected_weights' has 1 entries"),
        ('{"prompt_ids": [1], "chosen_ids": [6], "rejected_ids": [8], "rejected_weights": [1.5]}', r"pair 1 .*\[0, 1\]"),
        ('{"prompt_ids": [1], "chosen_ids": [6], "rejected_ids": [8], "rejected_weights": [-0.1]}', r"pair 1 .*\[0, 1\]"),
        ('{"prompt_ids": [1], "chosen_ids": [6], "rejected_ids": [8], "rejected_weights": [NaN]}', r"pair 1 .*nan"),
        ('{"prompt_ids": [1], "chosen_ids": [6], "rejected_ids": [99]}', r"pair 1 .*token id 99"),
        ('{"prompt_ids": [], "chosen_ids": [6], "rejected_ids": [8]}', r"pair 1 .*'prompt_ids' is empty"),
    ],
)
def test_bad_pairs_are_rejected_before_training(world, tmp_path, bad_line, expected):
    data = _write(tmp_path / "bad.jsonl", [GOOD, bad_line, GOOD])
    out = tmp_path / "out"
    with pytest.raises(ValueError, match=expected) as err:
        run(params(world, out, pairs_path=str(data)))
    assert str(data) in str(err.value)
    assert not (out / "metrics.jsonl").exists()  # nothing ran


@pytest.mark.parametrize(
    "override,expected",
    [
        ({"lr": -1e-3}, "'lr'"),
        ({"lr": float("nan")}, "'lr'"),
        ({"objective": {"name": "ppo"}}, "'objective.name'"),
        ({"objective": {**OBJECTIVES["cdpo"], "form": "token"}}, "'form'"),
        ({"objective": {"name": "cdpo", "gamma": 1.0}}, "missing parameter 'form'"),
        ({"objective": {**OBJECTIVES["dpo"], "gamma": 1.0}}, "dpo does not take"),
        ({"batch_size": 0}, "'batch_size'"),
        ({"objective": {**OBJECTIVES["dpo"], "beta": 0.0}}, "'objective.beta'"),
        ({"adam_betas": [0.9]}, "'adam_betas'"),
        ({"batching": "sorted"}, "'batching'"),
    ],
)
def test_bad_params_are_rejected_before_training(world, tmp_path, override, expected):
    out = tmp_path / "out"
    with pytest.raises(ValueError, match=expected):
        run(params(world, out, **override))
    assert not out.exists()


def test_bench_objective_step(world, tmp_path):
    r = OPS["bench_objective_step"]({**params(world, tmp_path, steps=2), "warmup": 1}, lambda *a, **k: None)
    assert r["seconds_per_step"] > 0 and r["steps"] == 2


def test_a_missing_field_is_named(world, tmp_path):
    p = params(world, tmp_path)
    del p["weight_decay"]
    with pytest.raises(ValueError, match="missing parameter 'weight_decay'"):
        run(p)


def test_heldout_metrics_are_the_models_own_log_probs_at_those_steps(world, tmp_path):
    from transformers import AutoModelForCausalLM

    from _train_helpers import EOS

    # Held-out pairs with critical positions: their own file, never trained on.
    heldout = tmp_path / "heldout.jsonl"
    lines = [json.loads(line) for line in Path(world["pairs"]).read_text().splitlines()[:3]]
    for rec in lines:
        rec["rejected_critical"] = [0] if len(rec["rejected_ids"]) < 3 else [0, 2]
    heldout.write_text("".join(json.dumps(r) + "\n" for r in lines))
    out = tmp_path / "run"
    kept = tmp_path / "step-2"

    class Events(list):  # keeps a copy of step 2's checkpoint, which step 4's replaces
        def append(self, event):
            super().append(event)
            if event[0] == "checkpoint" and event[1]["step"] == 2:
                shutil.copytree(event[1]["path"], kept)

    events = Events()
    run(params(world, out, steps=4, eval_pairs_path=str(heldout), eval_every=2, checkpoint_every=2), events)
    metrics = [f for t, f in events if t == "metric"]
    evaluated = {m["step"]: m for m in metrics if "eval_logp_chosen" in m}
    assert sorted(evaluated) == [0, 2, 4]
    assert metric_lines(out)[0] == evaluated[0]  # step 0 is in the metrics file too

    def direct(model_dir) -> tuple[float, float, float]:
        # Independent: each sequence alone, full log-softmax, responses with EOS appended.
        model = AutoModelForCausalLM.from_pretrained(str(model_dir)).eval()
        sums = [0.0, 0.0, 0.0]
        for rec in lines:
            for k, key in ((0, "chosen_ids"), (1, "rejected_ids")):
                ids = rec["prompt_ids"] + rec[key] + [EOS]
                with torch.no_grad():
                    lp = torch.log_softmax(model(torch.tensor([ids])).logits[0], -1)
                start = len(rec["prompt_ids"])
                token_lp = [lp[start - 1 + j, t].item() for j, t in enumerate(rec[key] + [EOS])]
                sums[k] += sum(token_lp)
                if key == "rejected_ids":
                    sums[2] += sum(token_lp[p] for p in rec["rejected_critical"])
        return tuple(s / len(lines) for s in sums)

    for step, model_dir in ((0, world["model"]), (2, kept)):
        expected = direct(model_dir)
        got = tuple(evaluated[step][k] for k in ("eval_logp_chosen", "eval_logp_rejected", "eval_logp_critical"))
        assert got == pytest.approx(expected, abs=1e-4)
    # Evaluation does not disturb training: the same run without it gives the same weights.
    plain = run(params(world, tmp_path / "plain", steps=4, checkpoint_every=2))
    assert (Path(plain["model_dir"]) / "model.safetensors").read_bytes() == (out / "model" / "model.safetensors").read_bytes()


def test_bad_heldout_critical_positions_name_the_line(world, tmp_path):
    heldout = tmp_path / "heldout.jsonl"
    heldout.write_text('{"prompt_ids": [1, 5], "chosen_ids": [6], "rejected_ids": [8, 9], "rejected_critical": [2]}\n')
    with pytest.raises(ValueError, match=r"heldout\.jsonl: pair 0 \(line 1\): field 'rejected_critical' holds 2"):
        run(params(world, tmp_path / "out", eval_pairs_path=str(heldout), eval_every=1))
