"""A small stand-in for the TypeScript world generator: problems and noisy solutions of the same shape.

It follows world-notes.md closely enough for tuning and tests (8 verbs, meaning words, benign
connectives, one greedy-wrong and one sampling-wrong trigger verb, rare arithmetic slips), but
it is a fixture, not the world: the kit's corpus comes from src/tasks/world/.
"""

from __future__ import annotations

import json
import random
from pathlib import Path

NAMES = (("mia", "she"), ("tom", "he"), ("ana", "she"), ("ben", "he"), ("liz", "she"), ("sam", "he"))
ITEMS = ("apples", "pens", "cards", "coins", "books", "shells")
# verb -> (true meaning, wrong-meaning probability in the corpus)
VERBS = {
    "finds": ("gain", 0.0),
    "is given": ("gain", 0.0),
    "buys": ("gain", 0.0),  # "buys A bags of B": gains A * B
    "gives away": ("lose", 0.0),
    "loses": ("lose", 0.0),
    "sells": ("lose", 0.0),
    "lends": ("lose", 0.6),  # greedy decoding learns the wrong meaning
    "borrows": ("gain", 0.3),  # only sampling shows the wrong meaning
}
CONNECTIVES = (("then", 0.4), ("next", 0.3), ("now", 0.2), ("so", 0.1))


def digits(n: int) -> str:
    """47 -> "4 7": world text writes numbers digit by digit."""
    return " ".join(str(n))


def _apply(meaning: str, value: int, amount: int) -> int:
    return value + amount if meaning == "gain" else value - amount


def make_problem(rng: random.Random) -> tuple[str, str, str]:
    """Returns (prompt, noisy response, true answer digits), every value in 0..99 under every confusion."""
    while True:
        name, pronoun = rng.choice(NAMES)
        item = rng.choice(ITEMS)
        start = rng.randint(1, 99)
        steps = []
        for _ in range(rng.randint(2, 3)):
            verb = rng.choice(list(VERBS))
            if verb == "buys":
                steps.append((verb, rng.randint(2, 5), rng.randint(2, 9)))
            else:
                steps.append((verb, None, rng.randint(1, 40)))
        # Rejection: every mix of true and wrong meanings keeps every value in range.
        values = {start}
        ok = True
        for verb, a, b in steps:
            amount = a * b if a else b
            values = {_apply(m, v, amount) for v in values for m in ("gain", "lose")}
            if min(values) < 0 or max(values) > 99:
                ok = False
                break
        if ok:
            break

    sentences = [f"{name} has {digits(start)} {item} ."]
    lines = [f"start {digits(start)} ."]
    truth = noisy = start
    for verb, a, b in steps:
        meaning, wrong_p = VERBS[verb]
        amount = a * b if a else b
        if a:
            sentences.append(f"{pronoun} buys {a} bags of {digits(b)} {item} .")
        else:
            sentences.append(f"{pronoun} {verb} {digits(b)} {item} .")
        written = meaning if rng.random() >= wrong_p else ("lose" if meaning == "gain" else "gain")
        truth = _apply(meaning, truth, amount)
        result = _apply(written, noisy, amount)
        if rng.random() < 0.04:  # an arithmetic slip, propagated to later steps
            result = min(99, max(0, result + rng.choice((-10, -2, -1, 1, 2, 10))))
        conn = rng.choices([c for c, _ in CONNECTIVES], weights=[w for _, w in CONNECTIVES])[0]
        op = "+" if written == "gain" else "-"
        if a:
            lines.append(f"{conn} {written} {a} * {digits(b)} = {digits(amount)} , {digits(noisy)} {op} {digits(amount)} = {digits(result)} .")
        else:
            lines.append(f"{conn} {written} {digits(noisy)} {op} {digits(amount)} = {digits(result)} .")
        noisy = result
    sentences.append(f"how many {item} does {name} have ?")
    lines.append(f"answer {digits(noisy)}")
    return " ".join(sentences), " ".join(lines), str(truth)


def write_corpus(path: Path, n: int, seed: int) -> Path:
    """Writes n corpus lines {"id", "prompt", "response"}."""
    rng = random.Random(seed)
    with path.open("w", encoding="utf-8") as f:
        for i in range(n):
            prompt, response, _ = make_problem(rng)
            f.write(json.dumps({"id": f"w{seed}-{i}", "prompt": prompt, "response": response}) + "\n")
    return path


def write_problems(path: Path, n: int, seed: int) -> Path:
    """Writes n test lines {"prompt", "answer"} with the true answer."""
    rng = random.Random(seed)
    with path.open("w", encoding="utf-8") as f:
        for _ in range(n):
            prompt, _, answer = make_problem(rng)
            f.write(json.dumps({"prompt": prompt, "answer": answer}) + "\n")
    return path
