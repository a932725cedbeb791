"""Greedy accuracy of a world policy: decode each problem greedily and grade its final answer.

The grading rule is the world's: the answer is the digits after the last `answer` token,
joined ("answer 5 9" -> "59"); a response without `answer` or without digits after it is wrong.
The TypeScript side grades sampled trajectories with the same rule.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any, Callable

import torch

from .world_corpus import read_problems
from .world_tokenizer import BOS_ID, EOS_ID, PAD_ID, load_world_tokenizer


def final_answer(response: str) -> str | None:
    """The digits after the last `answer` token, joined; None when there are none."""
    tokens = response.split()
    if "answer" not in tokens:
        return None
    last = len(tokens) - 1 - tokens[::-1].index("answer")
    digits = []
    for tok in tokens[last + 1 :]:
        if not tok.isdigit():
            break
        digits.append(tok)
    return "".join(digits) or None


def greedy_decode(model, tokenizer, prompts: list[str], batch_size: int, max_new_tokens: int) -> list[str]:
    """Greedy responses to `prompts` (each fed as [bos] + prompt), batched with left padding and a KV cache."""
    out: list[str] = []
    for start in range(0, len(prompts), batch_size):
        encoded = [[BOS_ID] + tokenizer.encode(p).ids for p in prompts[start : start + batch_size]]
        width = max(len(ids) for ids in encoded)
        # Left padding, so every row's next token is generated at the same position; generate()
        # derives position ids from the attention mask, so a row's positions start at its bos.
        input_ids = torch.full((len(encoded), width), PAD_ID, dtype=torch.long)  # [B, W]
        attention = torch.zeros((len(encoded), width), dtype=torch.long)  # [B, W]
        for i, ids in enumerate(encoded):
            input_ids[i, width - len(ids) :] = torch.tensor(ids)
            attention[i, width - len(ids) :] = 1
        with torch.no_grad():
            generated = model.generate(
                input_ids=input_ids,
                attention_mask=attention,
                max_new_tokens=max_new_tokens,
                do_sample=False,
                eos_token_id=EOS_ID,
                pad_token_id=PAD_ID,
            )  # [B, W + new]
        for row in generated[:, width:].tolist():
            if EOS_ID in row:
                row = row[: row.index(EOS_ID)]
            out.append(tokenizer.decode(row, skip_special_tokens=True))
    return out


def greedy_accuracy(
    model_dir: str | Path,
    problems_path: str | Path,
    batch_size: int = 64,
    max_new_tokens: int = 96,
    threads: int = 2,
    emit: Callable[..., None] | None = None,
) -> dict[str, Any]:
    """Accuracy of the greedy responses of the policy at `model_dir` on the problems file."""
    from transformers import AutoModelForCausalLM

    emit = emit or (lambda *_a, **_k: None)
    if not Path(model_dir).is_dir():
        raise ValueError(f"Cannot evaluate: model directory {model_dir} does not exist")
    if batch_size <= 0 or max_new_tokens <= 0:
        raise ValueError(f"Cannot evaluate: batch_size {batch_size} and max_new_tokens {max_new_tokens} must be positive")
    torch.set_num_threads(threads)
    problems = read_problems(problems_path)
    tokenizer = load_world_tokenizer(model_dir)
    model = AutoModelForCausalLM.from_pretrained(model_dir)
    model.eval()
    started = time.perf_counter()
    responses: list[str] = []
    for start in range(0, len(problems), batch_size):
        chunk = problems[start : start + batch_size]
        responses += greedy_decode(model, tokenizer, [p.prompt for p in chunk], batch_size, max_new_tokens)
        emit("progress", done=len(responses), total=len(problems))
    correct = sum(final_answer(r) == p.answer for r, p in zip(responses, problems))
    return {
        "accuracy": correct / len(problems),
        "correct": correct,
        "total": len(problems),
        "decode_s": time.perf_counter() - started,
        "examples": [{"prompt": p.prompt, "answer": p.answer, "response": r} for p, r in list(zip(problems, responses))[:3]],
    }
