"""Typed access to a request's params: a wrong type names the field and what is expected."""

from __future__ import annotations

import math
from typing import Any


class ParamError(ValueError):
    """A request parameter that is missing or of the wrong type."""


_MISSING = object()


def get(params: dict[str, Any], name: str, kind: type | tuple[type, ...], default: Any = _MISSING) -> Any:
    if name not in params:
        if default is _MISSING:
            raise ParamError(f"missing parameter '{name}'")
        return default
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
    return " or ".join(k.__name__ for k in kinds)
