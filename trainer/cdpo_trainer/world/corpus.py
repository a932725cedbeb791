"""Reading the world's JSON Lines files: the pretraining corpus and the graded test problems.

Both files are written by the TypeScript side, so every line is validated here and a bad
line is reported as `<file>:<line>` with the field at fault, which is what a person needs
to find it in a file of thousands of lines.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Example:
    """One corpus line: a problem and the (possibly noisy) solution the policy learns from."""

    id: str
    prompt: str
    response: str


@dataclass(frozen=True)
class Problem:
    """One test line: a problem and its true answer, as the string of its digits."""

    prompt: str
    answer: str


def read_jsonl(path: str | Path, fields: dict[str, tuple[type, ...]]) -> list[dict]:
    """Reads a JSON Lines file whose every non-blank line is an object with `fields` of the given types.

    Raises ValueError naming the file, the line and the field when a line does not fit, and
    when the file is missing or holds no lines at all (an empty corpus trains nothing).
    """
    p = Path(path)
    if not p.is_file():
        raise ValueError(f"Cannot read {p}: no such file (check the path passed to the op)")
    rows: list[dict] = []
    with p.open(encoding="utf-8") as f:
        for number, line in enumerate(f, start=1):
            if not line.strip():
                continue
            where = f"{p}:{number}"
            try:
                row = json.loads(line)
            except json.JSONDecodeError as e:
                raise ValueError(f"Cannot parse {where}: invalid JSON ({e.msg} at column {e.colno})") from e
            if not isinstance(row, dict):
                raise ValueError(f"Cannot parse {where}: expected a JSON object, found {type(row).__name__}")
            for name, kinds in fields.items():
                if name not in row:
                    raise ValueError(f"Cannot parse {where}: missing field '{name}'")
                value = row[name]
                if isinstance(value, bool) or not isinstance(value, kinds):
                    expected = " or ".join(k.__name__ for k in kinds)
                    raise ValueError(f"Cannot parse {where}: field '{name}' is {value!r}, expected {expected}")
            rows.append(row)
    if not rows:
        raise ValueError(f"Cannot read {p}: the file has no lines")
    return rows


def read_corpus(path: str | Path) -> list[Example]:
    """Reads the pretraining corpus: lines of {"id", "prompt", "response"}, all strings."""
    rows = read_jsonl(path, {"id": (str,), "prompt": (str,), "response": (str,)})
    return [Example(id=r["id"], prompt=r["prompt"], response=r["response"]) for r in rows]


def read_problems(path: str | Path) -> list[Problem]:
    """Reads graded problems: lines of {"prompt", "answer"}; the answer may be a number or a string."""
    rows = read_jsonl(path, {"prompt": (str,), "answer": (str, int)})
    return [Problem(prompt=r["prompt"], answer=_digits(str(r["answer"]))) for r in rows]


def _digits(text: str) -> str:
    # World text writes numbers digit by digit ("5 9"); the grade compares the digits alone.
    return "".join(ch for ch in text if ch.isdigit())
