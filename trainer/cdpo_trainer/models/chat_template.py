"""Chat prompts rendered by the checkpoint's own chat template, through transformers'
`apply_chat_template` (the reference implementation of its Jinja semantics), so an instruct model
sees exactly the text it was tuned on. The kit tokenizes the rendered text without adding special
tokens, as `apply_chat_template(tokenize=True)` does: the template writes the ones it wants."""

from __future__ import annotations

from pathlib import Path
from typing import Any


def render_chat_prompts(model_dir: str | Path, conversations: list[Any]) -> list[str]:
    """One prompt text per conversation ([{role, content}, ...]), ending where the assistant speaks."""
    from transformers import AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(str(model_dir))
    if not tokenizer.chat_template:
        raise ValueError(f"Cannot render chat prompts: {model_dir} has no chat template (tokenizer_config.json or "
                         "chat_template.jinja); use the few-shot prompt for a base model")
    for i, conv in enumerate(conversations):
        if not isinstance(conv, list) or not all(
            isinstance(m, dict) and isinstance(m.get("role"), str) and isinstance(m.get("content"), str) for m in conv
        ):
            raise ValueError(f"conversation {i}: expected a list of {{role, content}} string objects")
    return [tokenizer.apply_chat_template(conv, tokenize=False, add_generation_prompt=True) for conv in conversations]
