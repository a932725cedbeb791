"""One loaded causal LM served by transformers: scoring, distributions and seeded sampling.

The in-process ONNX backend (src/lm/ort_model.ts) implements the same semantics, so the two agree
token for token: per-token log-probs are log_softmax of the float32 logits (temperature 1, no
top-p); sampling picks each token with `select_token` from the row's own KitRandom stream.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any, Callable

import numpy as np

from cdpo_trainer.lm.kit_random import KitRandom
from cdpo_trainer.lm.select import select_tokens


class TorchLM:
    """One loaded causal LM plus its tokenizer; every method validates its input by item index."""

    def __init__(self, model_dir: str, device: str = "auto", dtype: str = "auto") -> None:
        import torch
        from transformers import AutoModelForCausalLM

        path = Path(model_dir)
        if not (path / "config.json").is_file():
            raise FileNotFoundError(f"Cannot load model: {path / 'config.json'} is missing (expected a Hugging Face model directory)")
        if device == "auto":
            device = "cuda" if torch.cuda.is_available() else "cpu"
        if device == "cuda" and not torch.cuda.is_available():
            raise ValueError("Cannot load model on cuda: torch.cuda.is_available() is False")
        if dtype == "auto":
            dtype = "bfloat16" if device == "cuda" else "float32"
        if dtype not in ("float32", "bfloat16", "float16"):
            raise ValueError(f"Cannot load model: dtype {dtype!r} is not float32, bfloat16 or float16")
        try:
            # Safetensors only: a pickled checkpoint can run code when it is loaded.
            self.model = (
                AutoModelForCausalLM.from_pretrained(str(path), dtype=getattr(torch, dtype), use_safetensors=True)
                .to(device)
                .eval()
            )
        except OSError as e:
            raise ValueError(f"Cannot load model from {path}: {e}") from e
        self._init_facts(device, dtype, path)

    @classmethod
    def from_model(cls, model, path: str | None = None) -> "TorchLM":
        """Wraps an already built model (e.g. a random one on the GPU in scripts/gpu_check.py)."""
        self = cls.__new__(cls)
        self.model = model.eval()
        param = next(model.parameters())
        self._init_facts(param.device.type, str(param.dtype).removeprefix("torch."), Path(path or "."))
        return self

    def _init_facts(self, device: str, dtype: str, path: Path) -> None:
        self.device, self.dtype, self.path = device, dtype, path
        cfg = self.model.config
        self.vocab_size = int(cfg.vocab_size)
        self.max_positions = int(cfg.max_position_embeddings)
        eos = self.model.generation_config.eos_token_id if self.model.generation_config else cfg.eos_token_id
        eos = eos if eos is not None else cfg.eos_token_id
        self.eos_ids = [] if eos is None else [int(e) for e in (eos if isinstance(eos, list) else [eos])]
        self.pad_id = int(cfg.pad_token_id) if cfg.pad_token_id is not None else 0
        self._tokenizer = None

    def facts(self) -> dict[str, Any]:
        return {"vocab_size": self.vocab_size, "max_position_embeddings": self.max_positions,
                "eos_token_ids": self.eos_ids, "device": self.device, "dtype": self.dtype}

    # validation ----------------------------------------------------------------------------

    def check_tokens(self, tokens: Any, what: str) -> list[int]:
        if not isinstance(tokens, list):
            raise ValueError(f"{what}: expected a list of token ids")
        for k, t in enumerate(tokens):
            if not isinstance(t, int) or isinstance(t, bool) or not 0 <= t < self.vocab_size:
                raise ValueError(f"{what}: token {k} is {t!r}, outside the vocabulary [0, {self.vocab_size})")
        return tokens

    def check_length(self, n: int, what: str) -> None:
        if n > self.max_positions:
            raise ValueError(f"{what}: {n} tokens exceed the context of {self.max_positions} (max_position_embeddings)")

    # forward passes --------------------------------------------------------------------------

    def _forward_right_padded(self, seqs: list[list[int]]):
        """float32 log-probs [B, S, V] for right-padded sequences."""
        import torch

        width = max(len(s) for s in seqs)
        ids = torch.full((len(seqs), width), self.pad_id, dtype=torch.long)
        mask = torch.zeros((len(seqs), width), dtype=torch.long)
        for b, s in enumerate(seqs):
            ids[b, : len(s)] = torch.tensor(s, dtype=torch.long)
            mask[b, : len(s)] = 1
        pos = torch.arange(width).expand(len(seqs), width)
        with torch.no_grad():
            out = self.model(input_ids=ids.to(self.device), attention_mask=mask.to(self.device),
                             position_ids=pos.to(self.device), use_cache=False)
        return torch.log_softmax(out.logits.float(), dim=-1)

    def score_inputs(self, items: list[dict[str, Any]]) -> tuple[list[list[int]], list[tuple[int, int]]]:
        """Checked scoring items as (prompt + continuation, (prompt length, continuation length))."""
        if not items:
            raise ValueError("Cannot score: the batch is empty")
        seqs, spans = [], []
        for i, item in enumerate(items):
            if not isinstance(item, dict):
                raise ValueError(f"item {i}: expected an object with 'prompt' and 'continuation'")
            prompt = self.check_tokens(item.get("prompt"), f"item {i} prompt")
            cont = self.check_tokens(item.get("continuation"), f"item {i} continuation")
            if not prompt:
                raise ValueError(f"item {i}: prompt is empty; at least one token (e.g. BOS) must precede the continuation")
            self.check_length(len(prompt) + len(cont), f"item {i}")
            seqs.append(prompt + cont)
            spans.append((len(prompt), len(cont)))
        return seqs, spans

    def score(self, items: list[dict[str, Any]]) -> list[list[float]]:
        seqs, spans = self.score_inputs(items)
        logp = self._forward_right_padded(seqs)
        result = []
        for b, (p, t) in enumerate(spans):
            if t == 0:
                result.append([])
                continue
            target = logp.new_tensor(seqs[b][p : p + t], dtype=logp.dtype).long()
            rows = logp[b, p - 1 : p - 1 + t]
            result.append(rows.gather(1, target[:, None])[:, 0].cpu().tolist())
        return result

    def distributions(self, items: list[dict[str, Any]]) -> list[np.ndarray]:
        if not items:
            raise ValueError("Cannot compute distributions: the batch is empty")
        seqs, positions = [], []
        for i, item in enumerate(items):
            if not isinstance(item, dict):
                raise ValueError(f"item {i}: expected an object with 'tokens' and 'positions'")
            tokens = self.check_tokens(item.get("tokens"), f"item {i} tokens")
            pos = item.get("positions")
            if not isinstance(pos, list) or any(not isinstance(p, int) or not 0 <= p < len(tokens) for p in pos):
                raise ValueError(f"item {i}: positions must be integers in [0, {len(tokens)})")
            self.check_length(len(tokens), f"item {i}")
            seqs.append(tokens if tokens else [self.pad_id])
            positions.append(pos)
        logp = self._forward_right_padded(seqs)
        return [logp[b, pos].cpu().numpy().astype(np.float32) for b, pos in enumerate(positions)]

    # sampling ---------------------------------------------------------------------------------

    def tokenizer(self):
        if self._tokenizer is None:
            from tokenizers import Tokenizer

            path = self.path / "tokenizer.json"
            if not path.is_file():
                raise FileNotFoundError(f"Cannot use stop strings: {path} is missing")
            self._tokenizer = Tokenizer.from_file(str(path))
        return self._tokenizer

    def sample(self, prompts: list[dict[str, Any]], n: int, temperature: float, top_p: float, max_new_tokens: int,
               seed: int, stop_token_ids: list[int], stop_strings: list[str], ignore_eos: bool,
               progress: Callable[[int, int], None] | None = None) -> list[dict[str, Any]]:
        """Seeded sampling with a KV cache, as cheap as the rule allows:

        * each prompt (with its forced prefix) is prefilled once and its cache copied to its n rows;
          a prompt that is the prefix of another in the request (rollouts) is not prefilled at all;
        * logits are computed for the newest position only (`logits_to_keep=1`): never [B, S, V];
        * a finished row leaves the batch (and its cache) at once;
        * tokens are picked for all live rows together (`select_tokens`, the same rule and result as
          `select_token` per row), each row drawing from its own KitRandom stream.
        Progress is reported after every decoding step of the batch.
        """
        import torch

        if not prompts:
            raise ValueError("Cannot sample: the batch of prompts is empty")
        if n < 1 or max_new_tokens < 0 or temperature < 0 or not 0 < top_p <= 1:
            raise ValueError(f"Cannot sample: need n >= 1, max_new_tokens >= 0, temperature >= 0, 0 < top_p <= 1 "
                             f"(got n={n}, max_new_tokens={max_new_tokens}, temperature={temperature}, top_p={top_p})")
        self.check_tokens(stop_token_ids, "stop_token_ids")
        contexts, labels, bans = [], [], []
        for i, p in enumerate(prompts):
            tokens = self.check_tokens(p.get("tokens"), f"prompt {i}")
            forced = self.check_tokens(p.get("forced_prefix", []) or [], f"prompt {i} forced_prefix")
            banned = self.check_tokens(p.get("mask_first", []) or [], f"prompt {i} mask_first")
            if not tokens + forced:
                raise ValueError(f"prompt {i}: empty; at least one token (e.g. BOS) is needed to condition on")
            if len(tokens) + len(forced) >= self.max_positions:
                raise ValueError(f"prompt {i}: {len(tokens) + len(forced)} tokens leave no room to generate in the "
                                 f"context of {self.max_positions} (max_position_embeddings)")
            if banned and len(set(banned)) >= self.vocab_size:
                raise ValueError(f"prompt {i}: mask_first bans every token")
            contexts.append(tokens + forced)
            # The RNG label is the caller's prompt index, so splitting a request into chunks
            # (the client does) never changes a sample.
            labels.append(p.get("index", i))
            bans.append(banned)
        # Rows are prompt-major: row r is sample r % n of prompt r // n.
        B, P = len(prompts) * n, len(prompts)
        rngs = [KitRandom.derive(seed, labels[r // n], r % n) for r in range(B)]
        out_tokens: list[list[int]] = [[] for _ in range(B)]
        out_lp: list[list[float]] = [[] for _ in range(B)]
        reason = ["length"] * B
        # Generation stops at the end of the context: such a row ends with stop_reason 'length'.
        limits = [min(max_new_tokens, self.max_positions - len(contexts[r // n])) for r in range(B)]
        live = [r for r in range(B) if limits[r] > 0]
        if not live or max_new_tokens == 0:
            return self._samples(labels, n, out_tokens, out_lp, reason)
        stops = set(stop_token_ids) | (set() if ignore_eos else set(self.eos_ids))
        max_stop = max((len(s) for s in stop_strings), default=0)
        steps = max(limits)
        dev = self.device
        with torch.no_grad():
            cache, mask, logits = self._prefill_shared(contexts, n)
            # Only rows that may generate stay in the batch.
            if len(live) < B:
                keep = torch.tensor(live, dtype=torch.long)
                cache.batch_select_indices(keep.to(dev))
                mask, logits = mask[keep], logits[keep]
            lengths = torch.tensor([len(contexts[r // n]) for r in live], dtype=torch.long)
            for step in range(steps):
                us = [rngs[r].next() for r in live]
                picked = select_tokens(logits.cpu().numpy(), temperature, top_p,
                                       [bans[r // n] if step == 0 else [] for r in live], us)
                token_lp = torch.log_softmax(logits, dim=-1)[torch.arange(len(live)), torch.tensor(picked)].tolist()
                still = []
                for k, (r, tok) in enumerate(zip(live, picked)):
                    out_tokens[r].append(tok)
                    out_lp[r].append(float(token_lp[k]))
                    if tok in stops:
                        reason[r] = "eos" if tok in self.eos_ids and tok not in stop_token_ids else "stop_token"
                    elif stop_strings and any(s in self.tokenizer().decode(out_tokens[r][-(max_stop + 1):], skip_special_tokens=False)
                                              for s in stop_strings):
                        reason[r] = "stop_string"
                    elif len(out_tokens[r]) < limits[r]:
                        still.append(k)
                if progress:
                    progress(step + 1, steps)
                if not still:
                    break
                if len(still) < len(live):  # finished rows leave the batch and the cache
                    keep = torch.tensor(still, dtype=torch.long)
                    cache.batch_select_indices(keep.to(dev))
                    mask, lengths = mask[keep], lengths[keep]
                    picked = [picked[k] for k in still]
                    live = [live[k] for k in still]
                mask = torch.cat([mask, torch.ones((len(live), 1), dtype=torch.long)], dim=1)
                step_pos = (lengths + step)[:, None]  # the fed token's position in its own sequence
                out = self.model(input_ids=torch.tensor(picked, dtype=torch.long)[:, None].to(dev),
                                 attention_mask=mask.to(dev), position_ids=step_pos.to(dev),
                                 past_key_values=cache, use_cache=True, logits_to_keep=1)
                cache = out.past_key_values
                logits = out.logits[:, -1].float()
        return self._samples(labels, n, out_tokens, out_lp, reason)

    def _prefill_shared(self, contexts: list[list[int]], n: int):
        """The cache, attention mask and first logits of every row (prompt-major, n per prompt).

        A context that is the prefix of a longer one in the request (rollouts send every prefix of
        a trajectory) is never run: its keys and values are the first tokens' of the longer one
        (attention is causal, positions count from 0 either way), and its first logits are read at
        its last position there. So only the longest contexts are prefilled, once each, and their
        caches are copied, cut and left-padded into the rows.
        """
        import torch
        from transformers import DynamicCache

        dev = self.device
        # Longest first: each context finds the first longer context that starts with it.
        order = sorted(range(len(contexts)), key=lambda k: -len(contexts[k]))
        anchors: list[int] = []  # indices of the contexts that are prefilled
        anchor_of = [0] * len(contexts)
        for k in order:
            c = contexts[k]
            home = next((a for a in anchors if contexts[a][: len(c)] == c), None)
            if home is None:
                anchors.append(k)
                home = k
            anchor_of[k] = anchors.index(home)
        A = len(anchors)
        width = max(len(contexts[a]) for a in anchors)
        ids = torch.full((A, width), self.pad_id, dtype=torch.long)
        amask = torch.zeros((A, width), dtype=torch.long)
        for j, a in enumerate(anchors):
            ids[j, width - len(contexts[a]):] = torch.tensor(contexts[a], dtype=torch.long)
            amask[j, width - len(contexts[a]):] = 1
        pos = (amask.cumsum(-1) - 1).clamp(min=0)
        out = self.model.model(input_ids=ids.to(dev), attention_mask=amask.to(dev), position_ids=pos.to(dev),
                               use_cache=True)
        hidden, full = out.last_hidden_state, out.past_key_values  # [A, width, hidden]
        # Each context's last position inside its anchor's left-padded row, and its logits there.
        rows = [anchor_of[k] for k in range(len(contexts))]
        ends = [width - len(contexts[anchors[anchor_of[k]]]) + len(contexts[k]) - 1 for k in range(len(contexts))]
        logits = self.model.get_output_embeddings()(hidden[rows, ends]).float()  # [P, V]
        if A == len(contexts) and all(anchors[anchor_of[k]] == k for k in range(len(contexts))):
            # No context is another's prefix: the anchors' cache is the prompts' cache, reordered.
            index = torch.tensor(rows, dtype=torch.long, device=dev)
            full.batch_select_indices(index)
            cache, mask = full, amask[torch.tensor(rows)]
        else:
            w = max(len(c) for c in contexts)
            mask = torch.zeros((len(contexts), w), dtype=torch.long)
            layers = []
            for layer in full.layers:
                keys = layer.keys.new_zeros((len(contexts), *layer.keys.shape[1:2], w, layer.keys.shape[-1]))
                values = torch.zeros_like(keys)
                for k, c in enumerate(contexts):
                    start = width - len(contexts[anchors[anchor_of[k]]])  # the anchor's first real slot
                    keys[k, :, w - len(c):] = layer.keys[anchor_of[k], :, start: start + len(c)]
                    values[k, :, w - len(c):] = layer.values[anchor_of[k], :, start: start + len(c)]
                layers.append((keys, values))
            for k, c in enumerate(contexts):
                mask[k, w - len(c):] = 1
            cache = DynamicCache(ddp_cache_data=layers)
        if n > 1:
            cache.batch_repeat_interleave(n)
            mask, logits = mask.repeat_interleave(n, 0), logits.repeat_interleave(n, 0)
        return cache, mask, logits

    @staticmethod
    def _samples(labels: list[int], n: int, tokens: list[list[int]], logprobs: list[list[float]],
                 reason: list[str]) -> list[dict[str, Any]]:
        return [{"prompt_index": labels[r // n], "sample_index": r % n, "tokens": tokens[r], "logprobs": logprobs[r],
                 "stop_reason": reason[r]} for r in range(len(tokens))]

    def generate(self, prompts: list[list[int]], n: int, temperature: float, top_p: float, max_new_tokens: int,
                 seed: int, ignore_eos: bool) -> list[list[int]]:
        """transformers' own `generate()` (left padded, KV cache); seeds torch's RNG, not KitRandom."""
        import torch

        seqs = [self.check_tokens(p, f"prompt {i}") for i, p in enumerate(prompts) for _ in range(n)]
        if not seqs:
            raise ValueError("Cannot generate: the batch of prompts is empty")
        width = max(len(s) for s in seqs)
        ids = torch.full((len(seqs), width), self.pad_id, dtype=torch.long)
        mask = torch.zeros_like(ids)
        for b, s in enumerate(seqs):
            ids[b, width - len(s):] = torch.tensor(s)
            mask[b, width - len(s):] = 1
        torch.manual_seed(seed)
        kwargs: dict[str, Any] = {"do_sample": temperature > 0, "max_new_tokens": max_new_tokens, "pad_token_id": self.pad_id}
        if temperature > 0:
            kwargs.update(temperature=temperature, top_p=top_p, top_k=0)
        if ignore_eos:
            kwargs["min_new_tokens"] = max_new_tokens
        with torch.no_grad():
            out = self.model.generate(input_ids=ids.to(self.device), attention_mask=mask.to(self.device), **kwargs)
        return [row[width:].tolist() for row in out.cpu()]
