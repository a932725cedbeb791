"""The training config: one dataclass for SFT and the preference objectives, built from request params.

Every setting is checked here, at construction, before any model is loaded or any step is taken;
a bad value raises ValueError naming the field and what would fix it.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field
from typing import Any

from cdpo_trainer.serve.params import get

OBJECTIVES = ("dpo", "rpo", "tdpo1", "tdpo2", "cdpo")
CDPO_FORMS = ("sequence", "position")
SCHEDULES = ("constant", "cosine")
DTYPES = ("float32", "bfloat16")

# beta for DPO/RPO (TRL's and the DPO paper's usual 0.1) and gamma for cDPO (the paper's 1.0).
_DEFAULT_BETA = {"dpo": 0.1, "rpo": 0.1, "cdpo": 1.0, "tdpo1": 0.1, "tdpo2": 0.1}
# Paper: LoRA SFT at 3e-4; preference baselines at 2e-5 (cDPO used 4e-5: pass lr explicitly).
_DEFAULT_LR = {"sft": 3e-4, "preference": 2e-5}


@dataclass(frozen=True)
class LoraSettings:
    r: int = 16
    alpha: int = 32
    dropout: float = 0.05
    target_modules: Any = "all-linear"  # a list of module names, or peft's "all-linear"


# Where things are, not what they are: never part of a resume identity (checkpoints written before
# this rule recorded them; they are dropped from those records when compared).
PATH_FIELDS = ("model_dir", "data_path", "out_dir")


@dataclass(frozen=True)
class TrainConfig:
    kind: str  # "sft" or "preference"
    model_dir: str
    data_path: str  # SFT examples or preference pairs (JSONL)
    out_dir: str
    lr: float
    batch_size: int = 8
    steps: int | None = None  # when None, `epochs` passes over the data
    epochs: int = 1
    seed: int = 0
    schedule: str = "constant"
    warmup_steps: int = 0
    max_grad_norm: float = 1.0  # 0 disables clipping
    weight_decay: float = 0.0
    lora: LoraSettings | None = None
    dtype: str = "float32"
    # preference only
    objective: str | None = None
    beta: float | None = None  # DPO/RPO beta, cDPO gamma
    alpha: float = 1.0  # RPO's NLL weight
    tdpo_alpha: float = 0.5
    tdpo_beta: float = 0.1
    cdpo_form: str = "sequence"
    # run plumbing: excluded from the resume identity (changing them does not change the weights)
    checkpoint_every: int = 0  # 0 = no checkpoints
    export_onnx: bool = True
    resume: bool = True
    ref_cache_dir: str | None = None
    device: str = field(default="cpu")

    def identity(self) -> dict[str, Any]:
        """The settings that determine the trained weights: a checkpoint resumes only under the same ones.

        Paths are left out: the start model and the data are identified by their hashes (checked
        beside this on resume), so a run directory that was moved or copied still resumes.
        """
        d = asdict(self)
        for k in (*PATH_FIELDS, "checkpoint_every", "export_onnx", "resume", "ref_cache_dir", "device"):
            d.pop(k)
        return d


def _positive_int(params: dict, name: str, default: Any) -> Any:
    value = get(params, name, int, default)
    if value is not None and value < 1:
        raise ValueError(f"parameter '{name}' is {value}, expected an integer >= 1")
    return value


def _lora(params: dict) -> LoraSettings | None:
    raw = params.get("lora")
    if raw is None or raw is False:
        return None
    if not isinstance(raw, dict):
        raise ValueError("parameter 'lora' must be an object {r, alpha, dropout, target_modules} or null")
    r = _positive_int(raw, "r", 16)
    alpha = get(raw, "alpha", (int, float), 2 * r)
    dropout = get(raw, "dropout", float, 0.05)
    if not 0.0 <= dropout < 1.0:
        raise ValueError(f"parameter 'lora.dropout' is {dropout}, expected a number in [0, 1)")
    targets = raw.get("target_modules", "all-linear")
    if not (targets == "all-linear" or (isinstance(targets, list) and targets and all(isinstance(t, str) for t in targets))):
        raise ValueError("parameter 'lora.target_modules' must be \"all-linear\" or a non-empty list of module names")
    return LoraSettings(r=r, alpha=alpha, dropout=dropout, target_modules=targets)


def from_params(params: dict[str, Any], kind: str) -> TrainConfig:
    """Builds and checks a TrainConfig from an `sft` or `preference` request's params."""
    data_key = "data_path" if kind == "sft" else "pairs_path"
    lr = get(params, "lr", float, _DEFAULT_LR[kind])  # get() already rejects NaN and infinities
    if lr < 0.0 or math.isnan(lr):
        raise ValueError(f"parameter 'lr' is {lr}, expected a learning rate >= 0")
    objective = None
    beta = None
    if kind == "preference":
        objective = get(params, "objective", str)
        if objective not in OBJECTIVES:
            raise ValueError(f"parameter 'objective' is {objective!r}, expected one of {', '.join(OBJECTIVES)}")
        beta = get(params, "beta", float, _DEFAULT_BETA[objective])
        if beta <= 0:
            raise ValueError(f"parameter 'beta' is {beta}, expected a number > 0")
    schedule = get(params, "schedule", str, "constant")
    if schedule not in SCHEDULES:
        raise ValueError(f"parameter 'schedule' is {schedule!r}, expected one of {', '.join(SCHEDULES)}")
    cdpo_form = get(params, "cdpo_form", str, "sequence")
    if cdpo_form not in CDPO_FORMS:
        raise ValueError(f"parameter 'cdpo_form' is {cdpo_form!r}, expected one of {', '.join(CDPO_FORMS)}")
    dtype = get(params, "dtype", str, "float32")
    if dtype not in DTYPES:
        raise ValueError(f"parameter 'dtype' is {dtype!r}, expected one of {', '.join(DTYPES)}")
    warmup = get(params, "warmup_steps", int, 0)
    checkpoint_every = get(params, "checkpoint_every", int, 0)
    for name, value in (("warmup_steps", warmup), ("checkpoint_every", checkpoint_every)):
        if value < 0:
            raise ValueError(f"parameter '{name}' is {value}, expected an integer >= 0")
    nonneg = {}
    for name, default in (("max_grad_norm", 1.0), ("weight_decay", 0.0), ("alpha", 1.0), ("tdpo_alpha", 0.5), ("tdpo_beta", 0.1)):
        nonneg[name] = get(params, name, float, default)
        if nonneg[name] < 0:
            raise ValueError(f"parameter '{name}' is {nonneg[name]}, expected a number >= 0")
    import torch

    default_device = "cuda" if torch.cuda.is_available() else "cpu"
    return TrainConfig(
        kind=kind,
        model_dir=get(params, "model_dir", str),
        data_path=get(params, data_key, str),
        out_dir=get(params, "out_dir", str),
        lr=lr,
        batch_size=_positive_int(params, "batch_size", 8),
        steps=_positive_int(params, "steps", None),
        epochs=_positive_int(params, "epochs", 1),
        seed=get(params, "seed", int, 0),
        schedule=schedule,
        warmup_steps=warmup,
        lora=_lora(params),
        dtype=dtype,
        objective=objective,
        beta=beta,
        cdpo_form=cdpo_form,
        checkpoint_every=checkpoint_every,
        export_onnx=get(params, "export_onnx", bool, True),
        resume=get(params, "resume", bool, True),
        ref_cache_dir=get(params, "ref_cache_dir", str, None) if params.get("ref_cache_dir") is not None else None,
        device=get(params, "device", str, default_device),
        **nonneg,
    )
