"""The trainer's view of the processes it runs in: one (the default), or several ranks started by
`accelerate launch` (DDP; FSDP and DeepSpeed configs ship untested, see trainer/accelerate/README.md).

Every training step builds the step's whole batch on every rank (the same indices, the same
padding), each rank runs the forward pass on its contiguous share of the rows, and the per-row
log-probs are gathered back into the whole batch with an all-gather that carries gradients. The
objective then runs on the whole batch, the same code as in one process, so every loss, with any
reduction (per pair, per token, per padded cell), is the single-process loss. Gradients: each rank
gets W times the gradient of the global loss through its rows (the all-gather's backward sums the
W identical losses' gradients), and DDP averages over the W ranks, which leaves the exact
gradient of the global loss.

Scoring (lm_score, lm_distributions) and sampling split their items the same way: contiguous
shares, results gathered to rank 0 in order.

With one process every method is the identity, so single-process runs execute exactly the code
(and give exactly the bytes) they gave before this module existed.
"""

from __future__ import annotations

import dataclasses
import os
from typing import TYPE_CHECKING, Any, Callable, TypeVar

if TYPE_CHECKING:  # torch is imported where it is used: a trainer that only says hello starts fast
    import torch

T = TypeVar("T")
R = TypeVar("R")


def _share(n: int, rank: int, size: int) -> tuple[int, int]:
    """The contiguous share [lo, hi) of n items for `rank`: the first n % size ranks get one more."""
    base, extra = divmod(n, size)
    lo = rank * base + min(rank, extra)
    return lo, lo + base + (1 if rank < extra else 0)


class World:
    """One process: every method is the identity."""

    rank = 0
    size = 1
    is_main = True

    @property
    def device(self) -> str | None:
        """The device every rank must use (None: whatever the request says)."""
        return None

    def localize(self, cfg):
        """A TrainConfig on this rank's device."""
        return cfg if self.device is None else dataclasses.replace(cfg, device=self.device)

    def prepare(self, model, optimizer):
        return model, optimizer

    def unwrap(self, model):
        return model

    def backward(self, loss: torch.Tensor) -> None:
        loss.backward()

    def clip_grad_norm(self, params: list[torch.nn.Parameter], max_norm: float) -> torch.Tensor:
        import torch

        return torch.nn.utils.clip_grad_norm_(params, max_norm)

    def share(self, n: int) -> tuple[int, int]:
        return 0, n

    def gather_rows(self, local: torch.Tensor, groups: int, per_group: int) -> torch.Tensor:
        return local

    def take_rows(self, batch, groups: int, per_group: int):
        return batch

    def map_split(self, items: list[T], fn: Callable[[list[T]], list[R]]) -> list[R]:
        return fn(items)

    def barrier(self) -> None:
        pass

    def broadcast(self, value: Any) -> Any:
        return value

    def main_first(self, fn: Callable[[], R]) -> R:
        return fn()


class AccelerateWorld(World):
    """Several ranks under `accelerate launch` (or torchrun for CPU processes), through Accelerator."""

    def __init__(self) -> None:
        import torch
        from accelerate import Accelerator

        # CPU ranks (gloo) when there is no GPU; the launcher also sets ACCELERATE_USE_CPU then.
        self.accelerator = Accelerator(cpu=not torch.cuda.is_available())
        self.rank = self.accelerator.process_index
        self.size = self.accelerator.num_processes
        self.is_main = self.accelerator.is_main_process

    @property
    def device(self) -> str:
        return str(self.accelerator.device)

    def prepare(self, model, optimizer):
        return self.accelerator.prepare(model, optimizer)

    def unwrap(self, model):
        return self.accelerator.unwrap_model(model)

    def backward(self, loss: torch.Tensor) -> None:
        self.accelerator.backward(loss)

    def clip_grad_norm(self, params: list[torch.nn.Parameter], max_norm: float) -> torch.Tensor:
        return self.accelerator.clip_grad_norm_(params, max_norm)

    def share(self, n: int) -> tuple[int, int]:
        return _share(n, self.rank, self.size)

    def take_rows(self, batch, groups: int, per_group: int):
        """This rank's rows of a batch laid out as `groups` blocks of `per_group` rows (pairs: chosen
        block, rejected block), widths unchanged."""
        import torch

        lo, hi = self.share(per_group)
        index = torch.tensor([g * per_group + i for g in range(groups) for i in range(lo, hi)], dtype=torch.long)
        return type(batch)(*(getattr(batch, f).index_select(0, index) for f in batch.__dataclass_fields__))

    def gather_rows(self, local: torch.Tensor, groups: int, per_group: int) -> torch.Tensor:
        """The whole batch's rows from every rank's share, in the global order, gradients kept.

        local: [groups * share, ...] for this rank -> [groups * per_group, ...].
        """
        import torch
        import torch.distributed.nn.functional as dist_fn

        most = _share(per_group, 0, self.size)[1]  # rank 0's share is the largest
        mine = local.size(0) // groups
        pad = torch.zeros((groups * (most - mine), *local.shape[1:]), dtype=local.dtype, device=local.device)
        parts = dist_fn.all_gather(torch.cat([local, pad]) if mine < most else local)
        blocks = []
        for g in range(groups):
            for r, part in enumerate(parts):
                lo, hi = _share(per_group, r, self.size)
                blocks.append(part[g * (hi - lo) : (g + 1) * (hi - lo)])
        return torch.cat(blocks)

    def map_split(self, items: list[T], fn: Callable[[list[T]], list[R]]) -> list[R]:
        import torch.distributed as dist

        lo, hi = self.share(len(items))
        mine = fn(items[lo:hi]) if hi > lo else []
        gathered: list[list[R] | None] = [None] * self.size
        dist.all_gather_object(gathered, mine)
        return [x for part in gathered for x in part]  # type: ignore[union-attr]

    def barrier(self) -> None:
        self.accelerator.wait_for_everyone()

    def broadcast(self, value: Any) -> Any:
        import torch.distributed as dist

        box = [value]
        dist.broadcast_object_list(box, src=0)
        return box[0]

    def main_first(self, fn: Callable[[], R]) -> R:
        """Rank 0 runs `fn` first (e.g. writes a cache), the others after it (and read it)."""
        if not self.is_main:
            self.barrier()
        out = fn()
        if self.is_main:
            self.barrier()
        return out


_world: World = World()


def launched_ranks() -> int:
    """How many ranks the launcher started (WORLD_SIZE; 1 when not launched)."""
    return int(os.environ.get("WORLD_SIZE", "1"))


def init() -> World:
    """Joins the ranks when launched with several; call once at start-up, before any op."""
    global _world
    if launched_ranks() > 1:
        _world = AccelerateWorld()
    return _world


def world() -> World:
    return _world
