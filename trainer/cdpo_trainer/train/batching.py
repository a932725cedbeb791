"""Training data: read and validate SFT/pair JSONL files, and collate them into padded batches.

The TypeScript side writes token ids (already tokenized, prompts carry their own BOS). Responses do
not carry EOS: the trainer appends the model's eos_token_id to every response, with weight 1.

Every check runs when the file is read, before any training step, and names the file, the pair
index (the 0-based line number) and the field, so a bad line is found without reading the code.

Batch layout. A batch of B examples becomes one padded tensor of N rows (N = B for SFT, N = 2B for
pairs: rows 0..B-1 chosen, rows B..2B-1 rejected), so the policy runs ONE forward per step. Beside
the token rows, every per-token quantity is kept "response-aligned": column j of a [N, T] tensor is
the j-th response token of that row (T = longest response + EOS in the batch). That layout serves
the sequence sums (sum over j) and the reference code's per-position cDPO (chosen token j paired
with rejected token j) alike, and it is the layout the reference cache stores.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from pathlib import Path

import torch


@dataclass(frozen=True)
class SftExample:
    prompt_ids: list[int]
    response_ids: list[int]  # EOS already appended


@dataclass(frozen=True)
class PairExample:
    prompt_ids: list[int]
    chosen_ids: list[int]  # EOS already appended
    rejected_ids: list[int]  # EOS already appended
    rejected_weights: list[float]  # len(rejected_ids); 1.0 on EOS (and everywhere when absent)


def record_error(path: Path, index: int, message: str, what: str = "pair") -> ValueError:
    return ValueError(f"Cannot read {path}: {what} {index} (line {index + 1}): {message}")


def _ids(
    path: Path, index: int, record: dict, field: str, vocab_size: int | None, allow_empty: bool, what: str = "pair"
) -> list[int]:
    if field not in record:
        raise record_error(path, index, what=what, message=f"field '{field}' is missing")
    value = record[field]
    if not isinstance(value, list) or not all(isinstance(t, int) and not isinstance(t, bool) for t in value):
        raise record_error(path, index, what=what, message=f"field '{field}' must be a list of integer token ids")
    if not value and not allow_empty:
        if field == "prompt_ids":
            # The first response token is predicted from the token before it; with no prompt there is none.
            raise record_error(path, index, what=what, message="field 'prompt_ids' is empty; give at least one token (a BOS token is enough)")
        raise record_error(path, index, what=what, message=f"field '{field}' is empty; every response needs at least one token")
    for t in value:
        if t < 0 or (vocab_size is not None and t >= vocab_size):
            raise record_error(path, index, what=what, message=f"field '{field}' holds token id {t}, outside the vocabulary [0, {vocab_size})")
    return value


def read_records(path: Path, what: str = "pair"):
    """Yields (index, record) for every non-blank line; index is the 0-based line number."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"Cannot read training data: {path} does not exist")
    with path.open("r", encoding="utf-8") as f:
        for index, line in enumerate(f):
            if not line.strip():
                continue
            try:
                record = json.loads(line)
            except json.JSONDecodeError as e:
                raise record_error(path, index, f"invalid JSON ({e.msg} at column {e.colno})", what) from e
            if not isinstance(record, dict):
                raise record_error(path, index, "expected a JSON object", what)
            yield index, record


def read_sft(path: str | Path, eos_token_id: int, vocab_size: int | None = None) -> list[SftExample]:
    """Reads `{"prompt_ids", "response_ids"}` lines; appends EOS to every response."""
    path = Path(path)
    out = []
    for index, record in read_records(path, "example"):
        prompt = _ids(path, index, record, "prompt_ids", vocab_size, allow_empty=False, what="example")
        response = _ids(path, index, record, "response_ids", vocab_size, allow_empty=False, what="example")
        out.append(SftExample(prompt, response + [eos_token_id]))
    if not out:
        raise ValueError(f"Cannot train on {path}: the file holds no examples")
    return out


def read_pairs(path: str | Path, eos_token_id: int, vocab_size: int | None = None) -> list[PairExample]:
    """Reads `{"prompt_ids", "chosen_ids", "rejected_ids", "rejected_weights"?}` lines.

    Weights (cDPO's 1 - s_t) must be finite, in [0, 1], one per rejected token; EOS gets weight 1.
    """
    path = Path(path)
    out = []
    for index, record in read_records(path):
        prompt = _ids(path, index, record, "prompt_ids", vocab_size, allow_empty=False)
        chosen = _ids(path, index, record, "chosen_ids", vocab_size, allow_empty=False)
        rejected = _ids(path, index, record, "rejected_ids", vocab_size, allow_empty=False)
        weights = record.get("rejected_weights")
        if weights is None:
            weights = [1.0] * len(rejected)
        else:
            if not isinstance(weights, list) or not all(
                isinstance(w, (int, float)) and not isinstance(w, bool) for w in weights
            ):
                raise record_error(path, index, "field 'rejected_weights' must be a list of numbers")
            if len(weights) != len(rejected):
                raise record_error(
                    path,
                    index,
                    f"field 'rejected_weights' has {len(weights)} entries but 'rejected_ids' has {len(rejected)} "
                    "tokens; give one weight per rejected token (EOS excluded)",
                )
            for j, w in enumerate(weights):
                if not math.isfinite(w) or w < 0.0 or w > 1.0:
                    raise record_error(path, index, f"field 'rejected_weights'[{j}] is {w!r}, expected a number in [0, 1]")
            weights = [float(w) for w in weights]
        out.append(PairExample(prompt, chosen + [eos_token_id], rejected + [eos_token_id], weights + [1.0]))
    if not out:
        raise ValueError(f"Cannot train on {path}: the file holds no pairs")
    return out


@dataclass
class Batch:
    """One padded batch. N rows of tokens; T response-aligned columns.

    input_ids       [N, L]  prompt + response, right-padded with pad_id
    resp_positions  [N, T]  column j -> index into the shifted logits (logits[:, p] predicts token p+1)
    resp_targets    [N, T]  the j-th response token (0 on padding)
    resp_mask       [N, T]  1.0 on real response tokens (EOS included), 0.0 on padding
    resp_weights    [N, T]  per-token weights (cDPO's 1 - s_t on rejected rows, 1 elsewhere), 0 on padding
    """

    input_ids: torch.Tensor
    resp_positions: torch.Tensor
    resp_targets: torch.Tensor
    resp_mask: torch.Tensor
    resp_weights: torch.Tensor

    def to(self, device: torch.device | str) -> "Batch":
        return Batch(*(getattr(self, f).to(device) for f in self.__dataclass_fields__))


def collate(rows: list[tuple[list[int], list[int], list[float]]], pad_id: int) -> Batch:
    """rows: (prompt_ids, response_ids incl. EOS, response weights). Returns a right-padded Batch."""
    n = len(rows)
    seq_len = max(len(p) + len(r) for p, r, _ in rows)
    resp_len = max(len(r) for _, r, _ in rows)
    input_ids = torch.full((n, seq_len), pad_id, dtype=torch.long)
    positions = torch.zeros((n, resp_len), dtype=torch.long)
    targets = torch.zeros((n, resp_len), dtype=torch.long)
    mask = torch.zeros((n, resp_len), dtype=torch.float32)
    weights = torch.zeros((n, resp_len), dtype=torch.float32)
    for i, (prompt, response, w) in enumerate(rows):
        ids = prompt + response
        input_ids[i, : len(ids)] = torch.tensor(ids, dtype=torch.long)
        k = len(response)
        # Response token j sits at sequence index len(prompt) + j and is predicted by the logits one
        # to its left (the readers guarantee a non-empty prompt, so that index is never -1).
        positions[i, :k] = torch.arange(len(prompt) - 1, len(prompt) - 1 + k)
        targets[i, :k] = torch.tensor(response, dtype=torch.long)
        mask[i, :k] = 1.0
        weights[i, :k] = torch.tensor(w, dtype=torch.float32)
    return Batch(input_ids, positions, targets, mask, weights)


def sft_batch(examples: list[SftExample], pad_id: int) -> Batch:
    return collate([(e.prompt_ids, e.response_ids, [1.0] * len(e.response_ids)) for e in examples], pad_id)


def pair_batch(examples: list[PairExample], pad_id: int) -> Batch:
    """Rows 0..B-1 are the chosen responses (weight 1), rows B..2B-1 the rejected ones (their weights)."""
    chosen = [(e.prompt_ids, e.chosen_ids, [1.0] * len(e.chosen_ids)) for e in examples]
    rejected = [(e.prompt_ids, e.rejected_ids, e.rejected_weights) for e in examples]
    return collate(chosen + rejected, pad_id)


def step_indices(n_examples: int, batch_size: int, step: int, seed: int) -> list[int]:
    """The example indices of training step `step` (0-based), in random batches.

    Epoch e shuffles with a generator seeded by (seed, e) alone, so the batch of any step is a pure
    function of (seed, step): resuming needs no data-loader state, and a resumed run sees exactly
    the batches an uninterrupted one would. The last batch of an epoch may be short.
    """
    per_epoch = math.ceil(n_examples / batch_size)
    epoch, k = divmod(step, per_epoch)
    order = torch.randperm(n_examples, generator=_epoch_generator(seed, epoch)).tolist()
    return order[k * batch_size : (k + 1) * batch_size]


# How many batches are sorted by length together: within a pool, rows of similar length share a
# batch, so a batch pads to little more than its own rows; pools keep the batches random.
BUCKET_POOL_BATCHES = 32


class LengthBucketedBatches:
    """Batches of rows of similar length, a pure function of (seed, step) like step_indices.

    Epoch e takes a seeded permutation (dropping the partial last batch, so every step has
    `batch_size` rows), cuts it into pools of BUCKET_POOL_BATCHES batches, sorts each pool by
    length (stably) and cuts it into batches, then shuffles the epoch's batches. Random world
    batches of 64 pad their mean length to about 1.4 times itself; bucketed ones by a few percent.
    """

    def __init__(self, lengths: list[int], batch_size: int, seed: int):
        if len(lengths) < batch_size:
            raise ValueError(f"Cannot batch by length: {len(lengths)} examples, fewer than batch_size {batch_size}")
        self.lengths = torch.tensor(lengths)
        self.batch_size, self.seed = batch_size, seed
        self.per_epoch = len(lengths) // batch_size
        self._epoch: tuple[int, list[list[int]]] | None = None

    def indices(self, step: int) -> list[int]:
        epoch, k = divmod(step, self.per_epoch)
        if self._epoch is None or self._epoch[0] != epoch:
            self._epoch = (epoch, self._batches(epoch))
        return self._epoch[1][k]

    def _batches(self, epoch: int) -> list[list[int]]:
        g = _epoch_generator(self.seed, epoch)
        n, bs = len(self.lengths), self.batch_size
        perm = torch.randperm(n, generator=g)[: n // bs * bs]
        batches = []
        for pool in perm.split(bs * BUCKET_POOL_BATCHES):
            by_length = pool[torch.sort(self.lengths[pool], stable=True).indices]
            batches.extend(b.tolist() for b in by_length.split(bs))
        shuffle = torch.randperm(len(batches), generator=g).tolist()
        return [batches[i] for i in shuffle]


def batch_order(batching: str, lengths: list[int], batch_size: int, seed: int):
    """step -> example indices, for the config's batching ("random" or "length_bucketed")."""
    if batching == "length_bucketed":
        return LengthBucketedBatches(lengths, batch_size, seed).indices
    return lambda step: step_indices(len(lengths), batch_size, step, seed)


def _epoch_generator(seed: int, epoch: int) -> torch.Generator:
    return torch.Generator().manual_seed(seed * 1_000_003 + epoch)
