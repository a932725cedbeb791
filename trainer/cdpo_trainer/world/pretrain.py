"""Pretraining the world policy from scratch: model, data, loop, checkpoint - read top to bottom.

Each corpus line becomes one sequence [bos] + prompt + response + [eos]. The loss is on the
response and the eos only: the policy must learn to solve, not to pose, problems. Batches are
right-padded to their own longest sequence and run *without* an attention mask: under causal
attention a real token only sees earlier positions, and pads come after every real token, so
the mask would change nothing but would cost SDPA its fused causal path.
"""

from __future__ import annotations

import json
import math
import shutil
import tempfile
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Callable

import torch
import torch.nn.functional as F

from cdpo_trainer.atomic import replace_dir, write_text_atomic
from cdpo_trainer.models.model_dir import write_model_record
from cdpo_trainer.world.policy import PRETRAIN_DEFAULTS, parameter_count, policy_config
from cdpo_trainer.world.corpus import read_corpus
from cdpo_trainer.world.tokenizer import (
    BOS_ID,
    EOS_ID,
    PAD_ID,
    load_world_tokenizer,
    tokenizer_config,
    special_tokens_map,
)

IGNORE = -100  # F.cross_entropy's ignore_index: prompt and pad targets


@dataclass(frozen=True)
class PretrainConfig:
    """Everything one pretraining run depends on; rejects bad settings at construction."""

    corpus_path: str
    tokenizer_path: str
    out_dir: str
    seed: int = 0
    steps: int = PRETRAIN_DEFAULTS["steps"]
    batch_size: int = PRETRAIN_DEFAULTS["batch_size"]
    lr: float = PRETRAIN_DEFAULTS["lr"]
    min_lr_ratio: float = PRETRAIN_DEFAULTS["min_lr_ratio"]
    warmup_steps: int = PRETRAIN_DEFAULTS["warmup_steps"]
    weight_decay: float = PRETRAIN_DEFAULTS["weight_decay"]
    grad_clip: float = PRETRAIN_DEFAULTS["grad_clip"]
    threads: int = PRETRAIN_DEFAULTS["threads"]
    model: dict[str, Any] = field(default_factory=dict)
    export_onnx: bool = True
    # Emit a progress event every this many steps (and after the last).
    log_every: int = 10

    def __post_init__(self) -> None:
        def bad(name: str, want: str) -> ValueError:
            return ValueError(f"Cannot pretrain: '{name}' is {getattr(self, name)!r}, expected {want}")

        for name in ("steps", "batch_size", "threads", "log_every"):
            if getattr(self, name) <= 0:
                raise bad(name, "a positive integer")
        if self.warmup_steps < 0:
            raise bad("warmup_steps", "a non-negative integer")
        if not self.lr > 0:
            raise bad("lr", "a positive number")
        if not 0 <= self.min_lr_ratio <= 1:
            raise bad("min_lr_ratio", "a number in [0, 1]")
        if self.weight_decay < 0:
            raise bad("weight_decay", "a non-negative number")
        if not self.grad_clip > 0:
            raise bad("grad_clip", "a positive number")


def lr_at(step: int, cfg: PretrainConfig) -> float:
    """Linear warmup over `warmup_steps`, then cosine from lr down to lr * min_lr_ratio at the last step."""
    if step < cfg.warmup_steps:
        return cfg.lr * (step + 1) / cfg.warmup_steps
    span = max(1, cfg.steps - 1 - cfg.warmup_steps)
    progress = min(1.0, (step - cfg.warmup_steps) / span)
    floor = cfg.lr * cfg.min_lr_ratio
    return floor + (cfg.lr - floor) * 0.5 * (1 + math.cos(math.pi * progress))


@dataclass(frozen=True)
class EncodedCorpus:
    """The corpus as one padded tensor, so a batch is an index and a slice."""

    inputs: torch.Tensor  # [N, T] int64: [bos] + prompt + response, right-padded with pad
    targets: torch.Tensor  # [N, T] int64: inputs shifted left plus eos; IGNORE on prompt and pad
    lengths: torch.Tensor  # [N] int64: real positions per row


def encode_corpus(corpus_path: str | Path, tokenizer) -> EncodedCorpus:
    """Tokenizes every line; position j predicts token j + 1 of [bos] + prompt + response + [eos]."""
    examples = read_corpus(corpus_path)
    prompts = tokenizer.encode_batch([ex.prompt for ex in examples])
    responses = tokenizer.encode_batch([ex.response for ex in examples])
    rows = []
    for p_enc, r_enc in zip(prompts, responses):
        prompt, response = p_enc.ids, r_enc.ids
        full = [BOS_ID] + prompt + response + [EOS_ID]
        # Targets full[1:]; the first len(prompt) of them are prompt tokens and carry no loss.
        target = [IGNORE] * len(prompt) + full[1 + len(prompt) :]
        rows.append((full[:-1], target))
    longest = max(len(x) for x, _ in rows)
    inputs = torch.full((len(rows), longest), PAD_ID, dtype=torch.long)
    targets = torch.full((len(rows), longest), IGNORE, dtype=torch.long)
    lengths = torch.empty(len(rows), dtype=torch.long)
    for i, (x, y) in enumerate(rows):
        inputs[i, : len(x)] = torch.tensor(x)
        targets[i, : len(y)] = torch.tensor(y)
        lengths[i] = len(x)
    return EncodedCorpus(inputs=inputs, targets=targets, lengths=lengths)


class BatchOrder:
    """Deterministic, length-bucketed batches drawn from a seeded generator.

    Each epoch takes a seeded permutation, cuts it into pools of `pool` batches, sorts each pool
    by sequence length and cuts it into batches, then shuffles the epoch's batches. Padding each
    batch to its own longest row then wastes a few percent of compute instead of about 30%
    (random world batches of 64 pad a mean length of 60 to about 84). A partial last batch of
    an epoch is dropped so every step sees the same number of rows.
    """

    def __init__(self, lengths: torch.Tensor, batch_size: int, seed: int, pool: int = 32):
        n = len(lengths)
        if n < batch_size:
            raise ValueError(f"Cannot pretrain: the corpus has {n} lines, fewer than batch_size {batch_size}")
        self.lengths, self.batch_size, self.pool = lengths, batch_size, pool
        self.generator = torch.Generator().manual_seed(seed)
        self.batches: list[torch.Tensor] = []

    def _epoch(self) -> list[torch.Tensor]:
        n, bs = len(self.lengths), self.batch_size
        perm = torch.randperm(n, generator=self.generator)[: n // bs * bs]
        batches = []
        for chunk in perm.split(bs * self.pool):
            # Stable sort: rows of equal length keep their random order.
            by_length = chunk[torch.sort(self.lengths[chunk], stable=True).indices]
            batches.extend(by_length.split(bs))
        shuffle = torch.randperm(len(batches), generator=self.generator).tolist()
        return [batches[i] for i in shuffle]

    def next(self) -> torch.Tensor:
        """Row indices of the next batch: [batch_size] int64."""
        if not self.batches:
            self.batches = self._epoch()[::-1]
        return self.batches.pop()


def batch(corpus: EncodedCorpus, rows: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Inputs and targets of `rows`, cut to the batch's own longest sequence."""
    width = int(corpus.lengths[rows].max())
    return corpus.inputs[rows, :width], corpus.targets[rows, :width]  # [B, W], [B, W]


def response_loss(model, inputs: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
    """Mean cross-entropy over response and eos targets; no attention mask (see the module docstring)."""
    logits = model(input_ids=inputs, use_cache=False).logits  # [B, W, V]
    return F.cross_entropy(logits.flatten(0, 1), targets.flatten(), ignore_index=IGNORE)


def build_model(vocab_size: int, overrides: dict[str, Any], seed: int):
    """A freshly initialised policy; the seed fixes its weights."""
    from transformers import LlamaForCausalLM

    config = policy_config(vocab_size, overrides)
    torch.manual_seed(seed)
    return LlamaForCausalLM(config)


def pretrain(cfg: PretrainConfig, emit: Callable[..., None] | None = None) -> dict[str, Any]:
    """Pretrains the policy on the corpus and saves a Hugging Face directory at cfg.out_dir.

    Streams `progress` (done, total, loss, tokens_per_s, eta_s) and `metric` (step, loss, lr)
    events through `emit`; returns the model path, the first and final loss and timings.
    """
    emit = emit or (lambda *_a, **_k: None)
    torch.set_num_threads(cfg.threads)
    tokenizer = load_world_tokenizer(cfg.tokenizer_path)
    corpus = encode_corpus(cfg.corpus_path, tokenizer)
    vocab_size = tokenizer.get_vocab_size()
    model = build_model(vocab_size, cfg.model, cfg.seed)
    context = model.config.max_position_embeddings
    if corpus.inputs.shape[1] + 1 > context:
        raise ValueError(
            f"Cannot pretrain: {cfg.corpus_path} holds a sequence of {corpus.inputs.shape[1] + 1} tokens, longer than "
            f"max_position_embeddings {context}; raise it through the 'model' param"
        )
    model.train()
    order = BatchOrder(corpus.lengths, cfg.batch_size, cfg.seed)

    decay = [p for p in model.parameters() if p.dim() >= 2]
    no_decay = [p for p in model.parameters() if p.dim() < 2]  # norm gains
    optimizer = torch.optim.AdamW(
        [{"params": decay, "weight_decay": cfg.weight_decay}, {"params": no_decay, "weight_decay": 0.0}],
        lr=cfg.lr,
        betas=(0.9, 0.95),
        fused=True,
    )

    started, cpu_started = time.perf_counter(), time.process_time()
    window_loss, window_steps, window_tokens, window_start = 0.0, 0, 0, started
    first_loss = last_loss = float("nan")
    for step in range(cfg.steps):
        for group in optimizer.param_groups:
            group["lr"] = lr_at(step, cfg)
        inputs, targets = batch(corpus, order.next())
        loss = response_loss(model, inputs, targets)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), cfg.grad_clip)
        optimizer.step()

        value = loss.item()
        if step == 0:
            first_loss = value
        window_loss += value
        window_steps += 1
        window_tokens += inputs.numel()
        if (step + 1) % cfg.log_every == 0 or step + 1 == cfg.steps:
            now = time.perf_counter()
            last_loss = window_loss / window_steps
            per_step = (now - started) / (step + 1)
            emit(
                "progress",
                done=step + 1,
                total=cfg.steps,
                loss=last_loss,
                tokens_per_s=window_tokens / max(now - window_start, 1e-9),
                eta_s=per_step * (cfg.steps - step - 1),
            )
            emit("metric", step=step + 1, loss=last_loss, lr=lr_at(step, cfg))
            window_loss, window_steps, window_tokens, window_start = 0.0, 0, 0, now
    train_s = time.perf_counter() - started
    # CPU seconds of all threads: on a shared machine, cpu_s / threads estimates the wall time
    # the run would take alone, which train_s (wall) cannot show.
    cpu_s = time.process_time() - cpu_started

    summary = {
        "steps": cfg.steps,
        "first_loss": first_loss,
        "final_loss": last_loss,
        "train_s": train_s,
        "s_per_step": train_s / cfg.steps,
        "cpu_s": cpu_s,
        "parameters": parameter_count(vocab_size, cfg.model),
        "vocab_size": vocab_size,
        "examples": int(len(corpus.lengths)),
    }
    onnx = save_policy(model, cfg, summary)
    return {"model_dir": str(Path(cfg.out_dir)), "onnx": onnx, **summary}


def save_policy(model, cfg: PretrainConfig, summary: dict[str, Any]) -> bool:
    """Writes the checkpoint into a temporary sibling directory, then renames it to cfg.out_dir.

    A reader therefore sees either no directory or a complete one (ONNX export included, since it
    runs before the rename). Returns whether model.onnx was written.
    """
    from transformers import GenerationConfig

    out = Path(cfg.out_dir)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(dir=out.parent, prefix=f".{out.name}.", suffix=".tmp"))
    try:
        model.eval()
        model.generation_config = GenerationConfig(
            bos_token_id=BOS_ID, eos_token_id=EOS_ID, pad_token_id=PAD_ID, do_sample=False
        )
        model.save_pretrained(tmp, safe_serialization=True)
        tok_src = Path(cfg.tokenizer_path)
        tok_file = tok_src / "tokenizer.json" if tok_src.is_dir() else tok_src
        shutil.copyfile(tok_file, tmp / "tokenizer.json")
        write_text_atomic(tmp / "tokenizer_config.json", _json(tokenizer_config(model.config.max_position_embeddings)))
        write_text_atomic(tmp / "special_tokens_map.json", _json(special_tokens_map()))
        write_model_record(tmp)
        run = {k: v for k, v in asdict(cfg).items() if k != "out_dir"}
        # File names only: the record travels with the model and must not name this machine's folders.
        for key in ("corpus_path", "tokenizer_path"):
            run[key] = Path(run[key]).name
        write_text_atomic(tmp / "pretrain.json", _json({"config": run, "result": summary}))
        onnx = cfg.export_onnx and _export_onnx(tmp)
        replace_dir(tmp, out)
        return onnx
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise


def _export_onnx(model_dir: Path) -> bool:
    # The exporter is an optional capability of the trainer; pretraining stands without it.
    try:
        from cdpo_trainer.models.onnx_export import export_onnx
    except ImportError:
        return False
    export_onnx(model_dir)
    return True


def _json(value: dict) -> str:
    return json.dumps(value, indent=2, sort_keys=True) + "\n"
