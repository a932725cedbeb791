"""MATH answers graded by math-verify: the data set agrees with itself, and hand-checked cases."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from cdpo_trainer.grading.math_answers import grade_math, last_boxed

MATH500 = Path(__file__).resolve().parents[2] / "data" / "datasets" / "math500_test.jsonl"


def test_every_math500_solution_is_graded_correct_against_its_own_answer():
    """An independent check: each worked solution (ending in its \\boxed{} answer) must match the
    separately stored `answer` field, whatever its form (fractions, tuples, text, degrees, ...)."""
    rows = [json.loads(line) for line in MATH500.read_text().splitlines()]
    assert len(rows) == 500
    grades = grade_math([{"response": r["solution"], "reference": r["answer"]} for r in rows])
    wrong = [r["unique_id"] for r, g in zip(rows, grades) if not g["correct"]]
    assert wrong == []
    # And the answers are not interchangeable: each solution against the NEXT problem's answer
    # is wrong except where the two answers are the same value: equal strings, or problem 22's
    # "5" against problem 23's "x=5" (math-verify reads an equation by its right-hand side).
    shifted = grade_math([{"response": r["solution"], "reference": n["answer"]} for r, n in zip(rows, rows[1:50])])
    same = {i for i, (r, n) in enumerate(zip(rows, rows[1:50])) if r["answer"] == n["answer"]} | {22}
    assert {i for i, g in enumerate(shifted) if g["correct"]} == same


@pytest.mark.parametrize(
    "response, reference, correct, extracted",
    [
        # 0.5 = 1/2 numerically; \frac12 and 1/2 are the same number.
        ("so $x = \\boxed{0.5}$", "\\frac{1}{2}", True, "0.5"),
        ("\\boxed{1/2}", "\\frac{1}{2}", True, "1/2"),
        # Two boxed answers: the last one is the answer (method.md), here 4.
        ("first \\boxed{3} then \\boxed{4}", "4", True, "4"),
        ("first \\boxed{4} then \\boxed{3}", "4", False, "3"),
        # 10001 vs 10000: no tolerance hides a wrong integer.
        ("\\boxed{10001}", "10000", False, "10001"),
        # Symbolic: x + 1 + x = 2x + 1.
        ("\\boxed{x + 1 + x}", "2x+1", True, "x + 1 + x"),
        # Units of the reference do not make a bare number wrong (90 degrees).
        ("\\boxed{90}", "90^\\circ", True, "90"),
        ("The answer is \\boxed{Evelyn}", "\\text{Evelyn}", True, "Evelyn"),
        # No answer at all: wrong, and nothing extracted.
        ("I do not know.", "4", False, None),
    ],
)
def test_hand_checked_answers(response, reference, correct, extracted):
    [grade] = grade_math([{"response": response, "reference": reference}])
    assert grade == {"correct": correct, "extracted": extracted}


def test_last_boxed_matches_braces():
    assert last_boxed("a \\boxed{\\frac{1}{2}} b") == "\\frac{1}{2}"
    assert last_boxed("\\boxed{1} and \\boxed{{2}}") == "{2}"
    assert last_boxed("cut off \\boxed{3") is None
    assert last_boxed("none") is None


def test_bad_items_name_their_index():
    with pytest.raises(ValueError, match="item 1: expected an object"):
        grade_math([{"response": "1", "reference": "1"}, {"response": 1, "reference": "1"}])
    with pytest.raises(ValueError, match="item 0: 'reference' is empty"):
        grade_math([{"response": "1", "reference": " "}])
