"""Supervised fine-tuning: mean NLL over the response tokens (EOS included) of each batch.

Prompt and padding are masked: the loss is averaged over the batch's response tokens, so long and
short responses weigh by their token count, as in standard SFT.
"""

from __future__ import annotations

from typing import Any

import torch

from cdpo_trainer.train import loop
from cdpo_trainer.train.batching import batch_order, read_sft, sft_batch
from cdpo_trainer.models.model_dir import eos_token_id, file_hash, model_hash, pad_token_id, read_config
from cdpo_trainer.train.response_logprobs import response_logits, token_logps
from cdpo_trainer.train.config import TrainConfig
from cdpo_trainer.train.distributed import world


def sft_loss(logps: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """Mean NLL over the masked tokens. [N, T], [N, T] -> scalar."""
    return -(logps * mask).sum() / mask.sum().clamp(min=1.0)


def train_sft(cfg: TrainConfig, emit) -> dict[str, Any]:
    vocab = read_config(cfg.model_dir).get("vocab_size")
    examples = read_sft(cfg.data_path, eos_token_id(cfg.model_dir), vocab)
    pad = pad_token_id(cfg.model_dir)
    hashes = {"data_hash": file_hash(cfg.data_path), "model_hash": model_hash(cfg.model_dir)}

    order = batch_order(cfg.batching, [len(e.prompt_ids) + len(e.response_ids) for e in examples], cfg.batch_size, cfg.seed)

    def make_step_loss(policy: loop.Policy):
        def step_loss(step: int):
            indices = order(step)
            batch = sft_batch([examples[i] for i in indices], pad).to(cfg.device)
            # Several ranks: each runs its share of the rows, gathered back with gradients (distributed.py).
            mine = world().take_rows(batch, 1, len(indices))
            logits = response_logits(policy.model, mine)  # [N, T, V]
            logps = world().gather_rows(token_logps(logits, mine.resp_targets, mine.resp_mask), 1, len(indices))  # [N, T]
            loss = sft_loss(logps, batch.resp_mask)
            return loss, {"tokens": int(batch.resp_mask.sum())}

        return step_loss

    return loop.run(cfg, make_step_loss, hashes, emit)
