"""GPU check of the trainer's torch code: a random ~1B-parameter Llama in bf16, scored and sampled
through `cdpo_trainer.lm.torch_lm.TorchLM` (the code the kit's torch backend runs), contrastive
scoring of a positive and a negative model on the device (`cdpo_trainer.lm.contrastive`), and one
cDPO training step with LoRA (`cdpo_trainer.train.preference`, the trainer's own step), reporting
tokens/s, model FLOP utilisation and the GPU's own utilisation (nvidia-smi, sampled while each part
runs). Needs only torch + transformers (+ peft for the step); no internet, no Deno, no vLLM.

    python scripts/gpu_check.py            # CUDA, ~1.1B parameters (TinyLlama-1.1B shape)
    python scripts/gpu_check.py --tiny     # CPU float32, a few layers: exercises the script in tests
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import tempfile
import threading
import time
from pathlib import Path

# Dense bf16 tensor-core peaks (FLOP/s) by device name; MFU is left null for anything else.
BF16_PEAK = {"H100": 989e12, "H200": 989e12, "A100": 312e12, "L40S": 362e12, "A10G": 70e12}


def forward_flops_per_token(cfg, context: int) -> float:
    """2 x (matmul parameters) + causal attention (QK^T and AV over on average context/2 keys)."""
    d, L, V = cfg.hidden_size, cfg.num_hidden_layers, cfg.vocab_size
    hd = getattr(cfg, "head_dim", None) or d // cfg.num_attention_heads
    q, kv = cfg.num_attention_heads * hd, cfg.num_key_value_heads * hd
    per_layer = d * q + 2 * d * kv + q * d + 3 * d * cfg.intermediate_size
    matmul_params = L * per_layer + d * V  # the input embedding is a gather, the head a matmul
    attention = 2 * 2 * L * q * (context / 2)
    return 2 * matmul_params + attention


def train_flops_per_token(cfg, context: int, lora: bool) -> float:
    """Forward plus backward. Backward costs two forwards for full fine-tuning (activation and
    weight gradients) and one for LoRA (the frozen weights need no gradient; the adapters are
    negligible), so 3x or 2x the forward."""
    return (2 if lora else 3) * forward_flops_per_token(cfg, context)


class GpuUtilisation:
    """Mean of nvidia-smi's utilization.gpu sampled every 100 ms while the block runs (None without it)."""

    def __init__(self, enabled: bool) -> None:
        self.enabled = enabled and shutil.which("nvidia-smi") is not None
        self.samples: list[float] = []
        self._stop = threading.Event()

    def _poll(self) -> None:
        while not self._stop.is_set():
            out = subprocess.run(["nvidia-smi", "--query-gpu=utilization.gpu", "--format=csv,noheader,nounits", "-i", "0"],
                                 capture_output=True, text=True)
            if out.returncode == 0 and out.stdout.strip():
                self.samples.append(float(out.stdout.split()[0]))
            self._stop.wait(0.1)

    def __enter__(self):
        if self.enabled:
            self._thread = threading.Thread(target=self._poll, daemon=True)
            self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        if self.enabled:
            self._stop.set()
            self._thread.join()

    @property
    def mean(self) -> float | None:
        return round(sum(self.samples) / len(self.samples), 1) if self.samples else None


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--tiny", action="store_true", help="CPU float32 tiny model (for tests)")
    ap.add_argument("--batch", type=int, default=None)
    ap.add_argument("--seq", type=int, default=None)
    ap.add_argument("--new-tokens", type=int, default=None)
    args = ap.parse_args()

    import torch
    from transformers import LlamaConfig, LlamaForCausalLM

    from cdpo_trainer.lm.torch_lm import TorchLM

    if args.tiny:
        device, dtype = "cpu", torch.float32
        cfg = LlamaConfig(vocab_size=256, hidden_size=64, intermediate_size=160, num_hidden_layers=2,
                          num_attention_heads=4, num_key_value_heads=2, max_position_embeddings=256)
        batch, seq, new = args.batch or 4, args.seq or 32, args.new_tokens or 8
    else:
        if not torch.cuda.is_available():
            raise SystemExit("gpu_check: torch.cuda.is_available() is False (use --tiny on CPU)")
        device, dtype = "cuda", torch.bfloat16
        cfg = LlamaConfig(vocab_size=32000, hidden_size=2048, intermediate_size=5632, num_hidden_layers=22,
                          num_attention_heads=32, num_key_value_heads=4, max_position_embeddings=2048)
        batch, seq, new = args.batch or 32, args.seq or 1024, args.new_tokens or 128
    torch.manual_seed(0)
    with torch.device(device):
        model = LlamaForCausalLM(cfg).to(dtype)
    lm = TorchLM.from_model(model)
    n_params = sum(p.numel() for p in model.parameters())
    name = torch.cuda.get_device_name(0) if device == "cuda" else "cpu"
    peak = next((v for k, v in BF16_PEAK.items() if k in name), None) if device == "cuda" else None

    utilisation: dict[str, float | None] = {}

    def timed(fn, name: str):
        fn()  # warm-up (kernels, allocator)
        if device == "cuda":
            torch.cuda.synchronize()
        with GpuUtilisation(device == "cuda") as util:
            t0 = time.perf_counter()
            fn()
            if device == "cuda":
                torch.cuda.synchronize()
            seconds = time.perf_counter() - t0
        utilisation[name] = util.mean
        return seconds

    gen = torch.Generator().manual_seed(1)
    rand = lambda n: torch.randint(4, cfg.vocab_size, (n,), generator=gen).tolist()  # noqa: E731
    items = [{"prompt": [1] + rand(15), "continuation": rand(seq - 16)} for _ in range(batch)]
    score_s = timed(lambda: lm.score(items), "score")
    score_tps = batch * seq / score_s
    prompts = [{"tokens": [1] + rand(31)} for _ in range(batch)]
    sample_s = timed(lambda: lm.sample(prompts, n=1, temperature=1.0, top_p=1.0, max_new_tokens=new, seed=0,
                                       stop_token_ids=[], stop_strings=[], ignore_eos=True), "sample")
    sample_tps = batch * new / sample_s
    score_flops = forward_flops_per_token(cfg, seq) * score_tps
    sample_flops = forward_flops_per_token(cfg, 32 + new) * sample_tps

    # Contrastive scoring: the positive and the negative model (here the model and a perturbed
    # copy of it) score the same trajectories; s_t is formed on the device.
    from cdpo_trainer.lm.contrastive import contrastive_scores

    with torch.device(device):
        neg_model = LlamaForCausalLM(cfg).to(dtype)
    neg = TorchLM.from_model(neg_model)
    ce_items = items[: max(1, batch // 2)]
    ce_s = timed(lambda: contrastive_scores(lm, neg, ce_items, betas=[1.0]), "contrastive")
    ce_tps = len(ce_items) * seq / ce_s
    ce_flops = 2 * forward_flops_per_token(cfg, seq) * ce_tps
    del neg, neg_model

    # One cDPO training step (LoRA r 16 on every linear layer, the paper's setting) through the
    # trainer's own step function, on random pairs saved beside a copy of the model.
    step = train_step(model, cfg, device, dtype, batch=max(2, batch // 4), seq=seq, rand=rand)
    train_tps = step["tokens"] / step["seconds"]
    train_flops = train_flops_per_token(cfg, seq // 2, lora=True) * train_tps
    utilisation["train_step"] = step["utilisation"]

    report = {
        "device": name,
        "dtype": str(dtype).removeprefix("torch."),
        "params": n_params,
        "score_batch": batch,
        "score_seq": seq,
        "score_tok_s": round(score_tps, 1),
        "score_tflop_s": round(score_flops / 1e12, 3),
        "score_mfu": None if peak is None else round(score_flops / peak, 4),
        "sample_batch": batch,
        "sample_new_tokens": new,
        "sample_tok_s": round(sample_tps, 1),
        "sample_mfu": None if peak is None else round(sample_flops / peak, 4),
        "contrastive_tok_s": round(ce_tps, 1),
        "contrastive_mfu": None if peak is None else round(ce_flops / peak, 4),
        "train_step_s": round(step["seconds"], 4),
        "train_step_pairs": step["pairs"],
        "train_tok_s": round(train_tps, 1),
        "train_mfu": None if peak is None else round(train_flops / peak, 4),
        "gpu_util_pct": utilisation,
        "bf16_peak_tflop_s": None if peak is None else peak / 1e12,
    }
    print(json.dumps(report))


def train_step(model, cfg, device: str, dtype, batch: int, seq: int, rand) -> dict:
    """Median seconds of one cDPO step (forward of chosen + rejected, loss, backward, AdamW) with LoRA."""
    from cdpo_trainer.train.config import from_params
    from cdpo_trainer.train.preference import bench_objective_step

    resp = max(4, seq // 2 - 16)  # prompt 16 + response: half the scoring length
    with tempfile.TemporaryDirectory(prefix="gpu-check-") as tmp:
        model.save_pretrained(tmp)
        pairs = Path(tmp) / "pairs.jsonl"
        with pairs.open("w") as f:
            for _ in range(batch):
                rejected = rand(resp)
                f.write(json.dumps({"prompt_ids": [1] + rand(15), "chosen_ids": rand(resp), "rejected_ids": rejected,
                                    "rejected_weights": [0.5] * len(rejected)}) + "\n")
        # Every field of a training request is required (the kit sends its run config's values).
        run = from_params({
            "model_dir": tmp, "pairs_path": str(pairs), "out_dir": tmp, "lr": 5e-5, "batch_size": batch, "steps": 4,
            "seed": 0, "schedule": "constant", "warmup_steps": 0, "min_lr_ratio": 0.0, "max_grad_norm": 1.0,
            "weight_decay": 0.0, "adam_betas": [0.9, 0.999], "batching": "random",
            "lora": {"r": 16, "alpha": 32.0, "dropout": 0.0, "target_modules": "all-linear"},
            "dtype": str(dtype).removeprefix("torch."), "eval_pairs_path": None, "eval_every": 0, "checkpoint_every": 0,
            "export_onnx": False, "resume": False, "ref_cache_dir": None, "device": device,
            "objective": {"name": "cdpo", "gamma": 1.0, "form": "sequence"},
        }, "preference")
        with GpuUtilisation(device == "cuda") as util:
            result = bench_objective_step(run, steps=3, warmup=1)
    # Tokens a step processes: chosen and rejected rows, prompt + response + EOS each.
    return {"seconds": result["seconds_per_step"], "pairs": batch, "tokens": 2 * batch * (16 + resp + 1),
            "utilisation": util.mean}


if __name__ == "__main__":
    main()
