"""Typed access to a request's params. Every field is required: the TypeScript run config is the
one source of defaults and sends every setting, so the two sides cannot disagree on a default.
A missing field or a wrong type names the field and what is expected."""

from __future__ import annotations

import math
from typing import Any


class ParamError(ValueError):
    """A request parameter that is missing or of the wrong type."""


def get(params: dict[str, Any], name: str, kind: type | tuple[type, ...]) -> Any:
    """params[name], checked to be of `kind` (include `type(None)` for a field that may be null)."""
    if name not in params:
        raise ParamError(f"missing parameter '{name}'")
    value = params[name]
    kinds = kind if isinstance(kind, tuple) else (kind,)
    if float in kinds and isinstance(value, int) and not isinstance(value, bool):
        value = float(value)
    if isinstance(value, bool) and bool not in kinds:
        raise ParamError(f"parameter '{name}' is {value!r}, expected {_names(kinds)}")
    if not isinstance(value, kinds):
        raise ParamError(f"parameter '{name}' is {value!r}, expected {_names(kinds)}")
    if isinstance(value, float) and not math.isfinite(value):
        raise ParamError(f"parameter '{name}' is {value!r}, expected a finite number")
    return value


def _names(kinds: tuple[type, ...]) -> str:
    return " or ".join("null" if k is type(None) else k.__name__ for k in kinds)
