"""The training config: one dataclass for SFT (pretraining included) and the preference objectives.

Every field is required in the request (the TypeScript run config is the one source of defaults)
and checked here, at construction, before any model is loaded or any step is taken; a bad value
raises ValueError naming the field and what would fix it.

The objective of a preference run is an object naming the loss and its own hyper-parameters:
    {"name": "dpo", "beta"}            DPO
    {"name": "rpo", "beta", "alpha"}   RPO: DPO + alpha * NLL of the chosen response
    {"name": "cdpo", "gamma", "form"}  cDPO (form: "sequence" = the paper's, "position" = its code's)
    {"name": "tdpo1" | "tdpo2", "beta", "alpha"}  TokenDPO
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from typing import Any

from cdpo_trainer.serve.params import get

CDPO_FORMS = ("sequence", "position")
SCHEDULES = ("constant", "cosine")
DTYPES = ("float32", "bfloat16")
BATCHINGS = ("random", "length_bucketed")
DEVICES = ("cpu", "cuda")
# The fields each objective takes, besides its name.
OBJECTIVE_FIELDS: dict[str, tuple[str, ...]] = {
    "dpo": ("beta",),
    "rpo": ("beta", "alpha"),
    "cdpo": ("gamma", "form"),
    "tdpo1": ("beta", "alpha"),
    "tdpo2": ("beta", "alpha"),
}


@dataclass(frozen=True)
class LoraSettings:
    r: int
    alpha: float
    dropout: float
    target_modules: Any  # a list of module names, or peft's "all-linear"


@dataclass(frozen=True)
class Objective:
    """A preference loss and its hyper-parameters; fields the loss does not take are None."""

    name: str
    beta: float | None = None  # DPO, RPO and TokenDPO's preference temperature
    gamma: float | None = None  # cDPO's
    alpha: float | None = None  # RPO's NLL weight; TokenDPO's KL weight
    form: str | None = None  # cDPO's form


@dataclass(frozen=True)
class TrainConfig:
    kind: str  # "sft" or "preference"
    model_dir: str
    data_path: str  # SFT examples or preference pairs (JSONL)
    out_dir: str
    lr: float
    batch_size: int
    steps: int
    seed: int
    schedule: str  # "constant", or "cosine" from lr down to lr * min_lr_ratio after warmup
    warmup_steps: int
    min_lr_ratio: float
    max_grad_norm: float  # 0 disables clipping
    weight_decay: float  # on weight matrices only, never on norm gains or biases
    adam_betas: tuple[float, float]
    batching: str  # "random", or "length_bucketed" (rows of similar length together: less padding)
    lora: LoraSettings | None
    dtype: str
    objective: Objective | None  # preference only
    # run plumbing: excluded from the resume identity (changing them does not change the weights)
    eval_pairs_path: str | None  # held-out pairs measured every eval_every steps (heldout.py)
    eval_every: int  # 0 = never
    checkpoint_every: int  # 0 = no checkpoints
    export_onnx: bool
    resume: bool
    ref_cache_dir: str | None
    device: str

    def identity(self) -> dict[str, Any]:
        """The settings that determine the trained weights: a checkpoint resumes only under the same ones."""
        d = asdict(self)
        for k in ("out_dir", "eval_pairs_path", "eval_every", "checkpoint_every", "export_onnx", "resume", "ref_cache_dir", "device"):
            d.pop(k)
        d["adam_betas"] = list(d["adam_betas"])
        return d


def _positive_int(params: dict, name: str) -> int:
    value = get(params, name, int)
    if value < 1:
        raise ValueError(f"parameter '{name}' is {value}, expected an integer >= 1")
    return value


def _nonnegative(params: dict, name: str, kind: type = float) -> Any:
    value = get(params, name, kind)
    if value < 0:
        raise ValueError(f"parameter '{name}' is {value}, expected a number >= 0")
    return value


def _choice(params: dict, name: str, choices: tuple[str, ...]) -> str:
    value = get(params, name, str)
    if value not in choices:
        raise ValueError(f"parameter '{name}' is {value!r}, expected one of {', '.join(choices)}")
    return value


def _lora(params: dict) -> LoraSettings | None:
    raw = get(params, "lora", (dict, type(None)))
    if raw is None:
        return None
    dropout = get(raw, "dropout", float)
    if not 0.0 <= dropout < 1.0:
        raise ValueError(f"parameter 'lora.dropout' is {dropout}, expected a number in [0, 1)")
    targets = raw.get("target_modules")
    if not (targets == "all-linear" or (isinstance(targets, list) and targets and all(isinstance(t, str) for t in targets))):
        raise ValueError("parameter 'lora.target_modules' must be \"all-linear\" or a non-empty list of module names")
    return LoraSettings(r=_positive_int(raw, "r"), alpha=get(raw, "alpha", float), dropout=dropout, target_modules=targets)


def _objective(params: dict) -> Objective:
    raw = get(params, "objective", dict)
    name = get(raw, "name", str)
    if name not in OBJECTIVE_FIELDS:
        raise ValueError(f"parameter 'objective.name' is {name!r}, expected one of {', '.join(OBJECTIVE_FIELDS)}")
    fields = OBJECTIVE_FIELDS[name]
    extra = sorted(set(raw) - {"name", *fields})
    if extra:
        raise ValueError(f"parameter 'objective' has {', '.join(extra)}, which {name} does not take (it takes {', '.join(fields)})")
    values: dict[str, Any] = {}
    for field in fields:
        if field == "form":
            values[field] = _choice(raw, "form", CDPO_FORMS)
            continue
        value = get(raw, field, float)
        # A preference temperature must be positive; a loss weight may be 0 (it switches its term off).
        if (field in ("beta", "gamma") and value <= 0) or value < 0:
            raise ValueError(f"parameter 'objective.{field}' is {value}, expected a number {'> 0' if field in ('beta', 'gamma') else '>= 0'}")
        values[field] = value
    return Objective(name=name, **values)


def _betas(params: dict) -> tuple[float, float]:
    raw = get(params, "adam_betas", list)
    if len(raw) != 2 or not all(isinstance(b, (int, float)) and not isinstance(b, bool) and 0 <= b < 1 for b in raw):
        raise ValueError(f"parameter 'adam_betas' is {raw!r}, expected two numbers in [0, 1)")
    return (float(raw[0]), float(raw[1]))


def from_params(params: dict[str, Any], kind: str) -> TrainConfig:
    """Builds and checks a TrainConfig from an `sft` or `preference` request's params."""
    lr = _nonnegative(params, "lr")
    min_lr_ratio = get(params, "min_lr_ratio", float)
    if not 0.0 <= min_lr_ratio <= 1.0 or math.isnan(min_lr_ratio):
        raise ValueError(f"parameter 'min_lr_ratio' is {min_lr_ratio}, expected a number in [0, 1]")
    return TrainConfig(
        kind=kind,
        model_dir=get(params, "model_dir", str),
        data_path=get(params, "data_path" if kind == "sft" else "pairs_path", str),
        out_dir=get(params, "out_dir", str),
        lr=lr,
        batch_size=_positive_int(params, "batch_size"),
        steps=_positive_int(params, "steps"),
        seed=get(params, "seed", int),
        schedule=_choice(params, "schedule", SCHEDULES),
        warmup_steps=_nonnegative(params, "warmup_steps", int),
        min_lr_ratio=min_lr_ratio,
        max_grad_norm=_nonnegative(params, "max_grad_norm"),
        weight_decay=_nonnegative(params, "weight_decay"),
        adam_betas=_betas(params),
        batching=_choice(params, "batching", BATCHINGS),
        lora=_lora(params),
        dtype=_choice(params, "dtype", DTYPES),
        objective=_objective(params) if kind == "preference" else None,
        eval_pairs_path=get(params, "eval_pairs_path", (str, type(None))),
        eval_every=_nonnegative(params, "eval_every", int),
        checkpoint_every=_nonnegative(params, "checkpoint_every", int),
        export_onnx=get(params, "export_onnx", bool),
        resume=get(params, "resume", bool),
        ref_cache_dir=get(params, "ref_cache_dir", (str, type(None))),
        device=_choice(params, "device", DEVICES),
    )
