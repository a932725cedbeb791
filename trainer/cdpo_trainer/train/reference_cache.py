"""Reference per-token log-probs, computed once from the frozen start model and cached on disk.

The reference model never changes during training, so its log-prob of every response token is
computed in one no-grad pass and stored; training steps then run only the policy. The cache file
is keyed by the start model's hash and the pair file's hash (plus the dtype and this format's
version), so a changed model or data set can never be served stale numbers.

File: `<cache_dir>/ref-logps-<key>.safetensors`, tensors
    chosen, rejected                    float32 [sum of response lengths]  (EOS included)
    chosen_offsets, rejected_offsets    int64   [n_pairs + 1]
Pair i's chosen log-probs are chosen[chosen_offsets[i]:chosen_offsets[i+1]].

TokenDPO needs the reference's full next-token distribution (KL over the vocabulary at every
position): n_tokens x vocab floats, 128k floats per token for Llama-3, far too big to cache. TDPO
therefore runs the reference forward on the fly each step (preference.py); only the per-token
log-probs of the realised tokens are cached.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import torch
from safetensors.torch import load_file, save_file

from cdpo_trainer.train.batching import PairExample, pair_batch
from cdpo_trainer.models.model_dir import load_model
from cdpo_trainer.train.response_logprobs import response_logits, token_logps

FORMAT_VERSION = 1


def cache_path(cache_dir: str | Path, model_hash: str, data_hash: str, dtype: str) -> Path:
    key = hashlib.sha256(f"v{FORMAT_VERSION}|{model_hash}|{data_hash}|{dtype}".encode()).hexdigest()[:32]
    return Path(cache_dir) / f"ref-logps-{key}.safetensors"


def compute(model, pairs: list[PairExample], pad_id: int, batch_size: int, device: str) -> dict[str, torch.Tensor]:
    """Scores every pair's chosen and rejected response with `model` (eval mode, no grad)."""
    was_training = model.training
    model.eval()
    chosen: list[torch.Tensor] = []
    rejected: list[torch.Tensor] = []
    with torch.no_grad():
        for start in range(0, len(pairs), batch_size):
            chunk = pairs[start : start + batch_size]
            batch = pair_batch(chunk, pad_id).to(device)
            logps = token_logps(response_logits(model, batch), batch.resp_targets, batch.resp_mask).cpu()  # [2B, T]
            b = len(chunk)
            for i, ex in enumerate(chunk):
                chosen.append(logps[i, : len(ex.chosen_ids)])
                rejected.append(logps[b + i, : len(ex.rejected_ids)])
    model.train(was_training)

    def offsets(parts: list[torch.Tensor]) -> torch.Tensor:
        return torch.tensor([0] + [len(p) for p in parts], dtype=torch.long).cumsum(0)

    return {
        "chosen": torch.cat(chosen).float().contiguous(),
        "rejected": torch.cat(rejected).float().contiguous(),
        "chosen_offsets": offsets(chosen),
        "rejected_offsets": offsets(rejected),
    }


def load_or_compute(
    model_dir: str | Path,
    pairs: list[PairExample],
    pad_id: int,
    batch_size: int,
    device: str,
    dtype: torch.dtype,
    path: Path,
) -> tuple[list[torch.Tensor], list[torch.Tensor], bool]:
    """Returns (chosen, rejected) per-pair log-prob tensors and whether the cache was hit.

    On a miss the start model is loaded from `model_dir`, scored, freed, and the file written
    atomically (temp + rename) so a concurrent reader never sees half a file.
    """
    hit = path.is_file()
    if hit:
        tensors = load_file(str(path))
    else:
        model = load_model(model_dir, dtype, device)
        tensors = compute(model, pairs, pad_id, batch_size, device)
        del model
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
        save_file(tensors, str(tmp))
        os.replace(tmp, path)
    out = []
    for side in ("chosen", "rejected"):
        flat, off = tensors[side], tensors[f"{side}_offsets"]
        if len(off) != len(pairs) + 1:
            raise ValueError(f"Cannot use reference cache {path}: it holds {len(off) - 1} pairs, the data has {len(pairs)}")
        out.append([flat[off[i] : off[i + 1]] for i in range(len(pairs))])
    return out[0], out[1], hit


def batch_reference(
    chosen: list[torch.Tensor], rejected: list[torch.Tensor], indices: list[int], resp_len: int
) -> torch.Tensor:
    """Reference log-probs of a pair batch in its response-aligned layout. -> [2B, T], zero on padding."""
    b = len(indices)
    out = torch.zeros((2 * b, resp_len), dtype=torch.float32)
    for row, i in enumerate(indices):
        out[row, : len(chosen[i])] = chosen[i]
        out[b + row, : len(rejected[i])] = rejected[i]
    return out
