"""GPU check of the torch LM backend: a random ~1B-parameter Llama in bf16, scored and sampled
through `cdpo_trainer.lm.torch_lm.TorchLM` (the code the kit's torch backend runs), reporting tokens/s
and model FLOP utilisation. Needs only torch + transformers (no internet, no Deno).

    python scripts/gpu_check.py            # CUDA, ~1.1B parameters (TinyLlama-1.1B shape)
    python scripts/gpu_check.py --tiny     # CPU float32, a few layers: exercises the script in tests
"""

from __future__ import annotations

import argparse
import json
import time

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

    def timed(fn):
        fn()  # warm-up (kernels, allocator)
        if device == "cuda":
            torch.cuda.synchronize()
        t0 = time.perf_counter()
        fn()
        if device == "cuda":
            torch.cuda.synchronize()
        return time.perf_counter() - t0

    gen = torch.Generator().manual_seed(1)
    rand = lambda n: torch.randint(4, cfg.vocab_size, (n,), generator=gen).tolist()  # noqa: E731
    items = [{"prompt": [1] + rand(15), "continuation": rand(seq - 16)} for _ in range(batch)]
    score_s = timed(lambda: lm.score(items))
    score_tps = batch * seq / score_s
    prompts = [{"tokens": [1] + rand(31)} for _ in range(batch)]
    sample_s = timed(lambda: lm.sample(prompts, n=1, temperature=1.0, top_p=1.0, max_new_tokens=new, seed=0,
                                       stop_token_ids=[], stop_strings=[], ignore_eos=True))
    sample_tps = batch * new / sample_s
    score_flops = forward_flops_per_token(cfg, seq) * score_tps
    sample_flops = forward_flops_per_token(cfg, 32 + new) * sample_tps
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
        "bf16_peak_tflop_s": None if peak is None else peak / 1e12,
    }
    print(json.dumps(report))


if __name__ == "__main__":
    main()
