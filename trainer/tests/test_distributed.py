"""The trainer under `--accelerate trainer/accelerate/cpu-ddp2.yaml`: two CPU ranks (gloo), rank 0
speaking the protocol. Same global batch, same data order, no dropout: the loss curve of DPO and
cDPO (and SFT) must be the single-process curve within 1e-5, and scoring, contrastive scoring and
sampling split over the ranks must give the single-process numbers. A config naming more processes
than devices is one line."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
import torch
from safetensors.torch import load_file

from _train_helpers import OBJECTIVES, lora, tiny_llama, train_params, write_pairs, write_sft

TRAINER = Path(__file__).resolve().parents[1]
CPU_DDP2 = TRAINER / "accelerate" / "cpu-ddp2.yaml"


def serve(requests: list[dict], accelerate: Path | None = None, extra: list[str] = ()) -> tuple[list[dict], subprocess.CompletedProcess]:
    """Runs one trainer on the requests (stdin then closed); returns its messages and the process."""
    args = [sys.executable, "-m", "cdpo_trainer", *extra]
    if accelerate is not None:
        args += ["--accelerate", str(accelerate)]
    stdin = "".join(json.dumps({"v": 1, "id": i + 1, **r}) + "\n" for i, r in enumerate(requests))
    proc = subprocess.run(args, input=stdin, capture_output=True, text=True, timeout=600, cwd=TRAINER)
    return [json.loads(line) for line in proc.stdout.splitlines() if line.strip()], proc


def results(messages: list[dict]) -> dict[int, dict]:
    out = {}
    for m in messages:
        if m["type"] == "error":
            raise AssertionError(f"request {m['id']} failed: {m['error']['message']}")
        if m["type"] == "result":
            out[m["id"]] = m["result"]
    return out


def curve(messages: list[dict], rid: int) -> list[dict]:
    return [m for m in messages if m["id"] == rid and m["type"] == "metric"]


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    """Single-process and two-rank runs of the same requests (one trainer process each)."""
    tmp = tmp_path_factory.mktemp("ddp")
    model = tiny_llama(tmp / "model", seed=1)
    other = tiny_llama(tmp / "other", seed=2)
    # 10 pairs, batch 5: two steps an epoch, and shares of 3 and 2 pairs on the two ranks.
    pairs = write_pairs(tmp / "pairs.jsonl", n=10, seed=4)
    sft = write_sft(tmp / "sft.jsonl", n=9, seed=5)
    common = {"steps": 6, "batch_size": 5, "lr": 3e-3, "seed": 3}
    items = [{"prompt": [1, 5, 6, 7][: 1 + k % 4], "continuation": [3 + (k * 7 + j) % 40 for j in range(2 + k % 5)]}
             for k in range(7)]

    def requests(tag: str) -> list[dict]:
        out = tmp / tag
        return [
            {"op": "preference", "params": train_params("preference", model, pairs, out / "dpo", **common,
                                                        objective={"name": "dpo", "beta": 0.5})},
            {"op": "preference", "params": train_params("preference", model, pairs, out / "cdpo", **common,
                                                        objective=dict(OBJECTIVES["cdpo"]), checkpoint_every=3,
                                                        lora=lora(r=4, dropout=0.0))},
            {"op": "sft", "params": train_params("sft", model, sft, out / "sft", **common)},
            {"op": "lm_load", "params": {"model_dir": str(model), "device": "cpu", "dtype": "float32"}},
            {"op": "lm_score", "params": {"handle": 1, "items": items}},
            {"op": "lm_distributions", "params": {"handle": 1, "items": [
                {"tokens": it["prompt"] + it["continuation"], "positions": [0, 1]} for it in items]}},
            {"op": "lm_sample", "params": {"handle": 1, "prompts": [{"tokens": it["prompt"]} for it in items],
                                           "n": 2, "temperature": 1.0, "top_p": 1.0, "max_new_tokens": 5, "seed": 9,
                                           "stop_token_ids": [], "stop_strings": [], "ignore_eos": False}},
            {"op": "hello", "params": {}},
            {"op": "lm_load", "params": {"model_dir": str(other), "device": "cpu", "dtype": "float32"}},
            {"op": "lm_contrastive", "params": {"pos": 1, "neg": 2, "items": items, "betas": [1.0, 2.0]}},
        ]

    single, p1 = serve(requests("single"))
    assert p1.returncode == 0, p1.stderr[-3000:]
    ddp, p2 = serve(requests("ddp2"), accelerate=CPU_DDP2)
    assert p2.returncode == 0, p2.stderr[-3000:]
    return {"single": single, "ddp": ddp, "tmp": tmp}


@pytest.mark.parametrize("rid,name", [(1, "dpo"), (2, "cdpo (LoRA)"), (3, "sft")])
def test_ddp2_loss_curve_equals_single_process(runs, rid, name):
    one, two = curve(runs["single"], rid), curve(runs["ddp"], rid)
    assert [m["step"] for m in one] == [m["step"] for m in two] == [1, 2, 3, 4, 5, 6]
    # The curve moves (so agreement is not two flat lines) ...
    assert max(m["loss"] for m in one) - min(m["loss"] for m in one) > 1e-3
    # ... and two ranks trace it within 1e-5, metrics included.
    for a, b in zip(one, two):
        for key in a:
            if isinstance(a[key], float) and key != "lr":
                assert abs(a[key] - b[key]) <= 1e-5, f"{name} step {a['step']} {key}: {a[key]} vs {b[key]}"


def test_ddp2_writes_one_model_and_checkpoints_from_rank_0(runs):
    r1, r2 = results(runs["single"]), results(runs["ddp"])
    for rid in (1, 2, 3):
        a = load_file(str(Path(r1[rid]["model_dir"]) / "model.safetensors"))
        b = load_file(str(Path(r2[rid]["model_dir"]) / "model.safetensors"))
        assert a.keys() == b.keys()
        worst = max(float((a[k] - b[k]).abs().max()) for k in a)
        assert worst <= 1e-5, f"request {rid}: weights differ by {worst}"
    assert [Path(p).name for p in r2[2]["checkpoints"]] == ["step-3", "step-6"]
    # Two ranks really ran, and exactly one answer per request came out: rank 1's never reach stdout.
    assert r1[8]["ranks"] == 1 and r2[8]["ranks"] == 2
    assert sorted(m["id"] for m in runs["ddp"] if m["type"] in ("result", "error")) == list(range(1, 11))


def test_scoring_and_sampling_split_over_ranks_give_the_single_process_numbers(runs):
    r1, r2 = results(runs["single"]), results(runs["ddp"])
    for a, b in zip(r1[5]["logprobs"], r2[5]["logprobs"]):
        assert len(a) == len(b) and max(abs(x - y) for x, y in zip(a, b)) <= 1e-5
    assert len(r2[6]["rows"]) == 7
    # Same tokens; a log-probability may differ in float32's last bits, as each rank's batch is another shape.
    for a, b in zip(r1[7]["samples"], r2[7]["samples"], strict=True):
        assert {k: v for k, v in a.items() if k != "logprobs"} == {k: v for k, v in b.items() if k != "logprobs"}
        assert max(abs(x - y) for x, y in zip(a["logprobs"], b["logprobs"], strict=True)) <= 1e-5
    # Contrastive scoring split the same way: each rank forms s_t for its share of the items.
    assert len(r2[10]["scores"]) == 7
    for a, b in zip(r1[10]["scores"], r2[10]["scores"]):
        pairs = list(zip(a["s"][0] + a["s"][1] + a["lp_pos"] + a["lp_neg"], b["s"][0] + b["s"][1] + b["lp_pos"] + b["lp_neg"]))
        assert len(a["s"][1]) == len(b["s"][1]) and max((abs(x - y) for x, y in pairs), default=0) <= 1e-5


def test_more_processes_than_devices_is_one_line(tmp_path):
    config = tmp_path / "gpu2.yaml"
    config.write_text("distributed_type: MULTI_GPU\nnum_processes: 2\nnum_machines: 1\nuse_cpu: false\n")
    if torch.cuda.device_count() >= 2:
        pytest.skip("this machine has 2 GPUs")
    messages, proc = serve([{"op": "hello", "params": {}}], accelerate=config)
    assert proc.returncode == 2 and messages == []
    lines = proc.stderr.strip().splitlines()
    assert lines == [
        f"Cannot launch the trainer: accelerate config {config} names 2 processes (num_processes) for "
        f"MULTI_GPU, but this machine has {torch.cuda.device_count()} usable CUDA devices; set num_processes "
        f"to at most {torch.cuda.device_count()}, or use a MULTI_CPU config"
    ], proc.stderr
    cpus = tmp_path / "cpu64.yaml"
    cpus.write_text("distributed_type: MULTI_CPU\nnum_processes: 4096\nuse_cpu: true\n")
    _, proc = serve([], accelerate=cpus, extra=["--check"])
    assert proc.returncode == 2 and "names 4096 CPU processes" in proc.stderr and len(proc.stderr.strip().splitlines()) == 1
    _, ok = serve([], accelerate=CPU_DDP2, extra=["--check"])
    assert ok.returncode == 0, ok.stderr
