"""Trainer ops for grading.

    grade_math  {items: [{response, reference}]} -> {grades: [{correct, extracted}]}
"""

from __future__ import annotations

from typing import Any

from cdpo_trainer.serve.params import get


def grade_math(params: dict[str, Any], emit) -> dict[str, Any]:
    from cdpo_trainer.grading.math_answers import grade_math as grade

    return {"grades": grade(get(params, "items", list))}


OPS: dict = {"grade_math": grade_math}
