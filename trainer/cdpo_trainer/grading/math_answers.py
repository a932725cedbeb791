"""MATH-style answers graded by `math-verify` (Hugging Face's grader, also used by the Open LLM
Leaderboard's MATH tasks): the answer a response gives (its last `\\boxed{}`; without one, a
"Final Answer: ..." line or a plain expression, as math-verify finds them) is parsed to SymPy and
compared to the reference as strings, numbers or symbolically.

The reference is the data set's `answer` field (LaTeX without `$` or `\\boxed`); it is parsed as the
content of a `\\boxed{}`, so `\\frac{14}{3}`, `p - q`, `\\text{Evelyn}` and `(3, \\frac{\\pi}{2})` all
read as written. Each MATH500 solution graded against its own answer is correct (tested on all 500).
"""

from __future__ import annotations

from typing import Any


def grade_math(items: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """[{response, reference}] -> [{correct, extracted}] in order; extracted is None without an answer."""
    from math_verify import LatexExtractionConfig, parse, verify

    out = []
    for i, item in enumerate(items):
        if not isinstance(item, dict) or not isinstance(item.get("response"), str) or not isinstance(item.get("reference"), str):
            raise ValueError(f"item {i}: expected an object with string fields 'response' and 'reference'")
        reference = item["reference"].strip()
        if not reference:
            raise ValueError(f"item {i}: 'reference' is empty; pass the data set's answer field")
        gold = parse("\\boxed{" + reference + "}", extraction_config=[LatexExtractionConfig()])
        if not gold:
            raise ValueError(f"item {i}: math-verify cannot read the reference {reference!r}")
        boxed = last_boxed(item["response"])
        # Several \boxed{} would be read as one set by math-verify; method.md grades the last one.
        predicted = parse(item["response"] if boxed is None else "\\boxed{" + boxed + "}")
        # parse() returns [sympy value, its text]; [] when the response gives no answer. The text
        # shown is the response's own where it boxed one (math-verify would show 0.5 as \frac{1}{2}).
        extracted = None if not predicted else boxed.strip() if boxed is not None else str(predicted[-1])
        out.append({"correct": bool(predicted) and bool(verify(gold, predicted)), "extracted": extracted})
    return out


def last_boxed(text: str) -> str | None:
    """The content of the last `\\boxed{...}` of `text` (braces matched), or None."""
    start = text.rfind("\\boxed{")
    if start < 0:
        return None
    depth, i = 0, start + len("\\boxed")
    for j in range(i, len(text)):
        if text[j] == "{":
            depth += 1
        elif text[j] == "}":
            depth -= 1
            if depth == 0:
                return text[i + 1 : j]
    return None  # unclosed: the response was cut off inside its answer
