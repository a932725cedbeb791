"""End to end through the wire: spawn `python -m cdpo_trainer`, send `preference` as a JSON line,
read the streamed events and the result; then a bad request on the same process."""

from __future__ import annotations

import json
import math
import subprocess
import sys
from pathlib import Path

from _train_helpers import tiny_llama, train_params, write_pairs


def test_preference_over_the_protocol(tmp_path):
    model = tiny_llama(tmp_path / "model")
    pairs = write_pairs(tmp_path / "pairs.jsonl", n=4)
    out = tmp_path / "out"
    request = {
        "v": 1,
        "id": 7,
        "op": "preference",
        "params": train_params("preference", model, pairs, out, steps=2, batch_size=2, lr=1e-3, checkpoint_every=2),
    }
    bad = {"v": 1, "id": 8, "op": "preference", "params": {**request["params"], "objective": {"name": "ppo"}}}
    stdin = json.dumps(request) + "\n" + json.dumps(bad) + "\n"
    proc = subprocess.run(
        [sys.executable, "-m", "cdpo_trainer"], input=stdin, capture_output=True, text=True, timeout=300,
        cwd=Path(__file__).resolve().parents[1],
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    lines = [json.loads(line) for line in proc.stdout.splitlines()]
    first = [m for m in lines if m["id"] == 7]
    assert all(m["v"] == 1 for m in lines)
    metrics = [m for m in first if m["type"] == "metric"]
    assert [m["step"] for m in metrics] == [1, 2]
    assert all(math.isfinite(m["loss"]) for m in metrics)
    assert [m["done"] for m in first if m["type"] == "progress"] == [1, 2]
    (ckpt,) = [m for m in first if m["type"] == "checkpoint"]
    assert ckpt["step"] == 2 and Path(ckpt["path"]).is_dir()
    assert first[-1]["type"] == "result"
    result = first[-1]["result"]
    assert result["steps"] == 2 and Path(result["model_dir"], "model.safetensors").is_file()
    (error,) = [m for m in lines if m["id"] == 8]
    assert error["type"] == "error" and error["error"]["kind"] == "bad_input"
    assert "objective" in error["error"]["message"]
