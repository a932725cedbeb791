"""A small random-initialised Llama checkpoint (HF directory) for tests and benchmarks.

The directory it writes is exactly what the kit's real policies look like: config.json,
model.safetensors, tokenizer.json (word level, whitespace split), generation_config.json.
Nothing is downloaded; every weight comes from a seeded torch generator, so the same
arguments give the same bytes.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path

# Fixed special tokens: ids 0..3, so tests can name them without reading the vocabulary.
PAD, UNK, BOS, EOS = "<pad>", "<unk>", "<s>", "</s>"
SPECIALS = [PAD, UNK, BOS, EOS]


@dataclass(frozen=True)
class TinyLlamaSpec:
    """Shape of the tiny model. Defaults: ~0.3M parameters, builds in well under a second."""

    vocab_size: int = 128
    hidden_size: int = 64
    intermediate_size: int = 160
    num_hidden_layers: int = 2
    num_attention_heads: int = 4
    num_key_value_heads: int = 2  # < heads, so grouped-query attention is exercised
    max_position_embeddings: int = 128
    rope_theta: float = 10000.0
    rms_norm_eps: float = 1e-6
    tie_word_embeddings: bool = False
    initializer_range: float = 0.2  # larger than HF's 0.02 so the distributions are far from uniform
    seed: int = 0
    extra_words: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        if self.vocab_size < len(SPECIALS) + 1:
            raise ValueError(f"vocab_size {self.vocab_size} is too small: need at least {len(SPECIALS) + 1}")
        if self.hidden_size % self.num_attention_heads:
            raise ValueError(
                f"hidden_size {self.hidden_size} is not divisible by num_attention_heads {self.num_attention_heads}"
            )
        if self.num_attention_heads % self.num_key_value_heads:
            raise ValueError(
                f"num_attention_heads {self.num_attention_heads} is not a multiple of "
                f"num_key_value_heads {self.num_key_value_heads}"
            )


def vocabulary(spec: TinyLlamaSpec) -> list[str]:
    """The word list: specials, then `extra_words`, then filler words w4, w5, ... up to vocab_size."""
    words = SPECIALS + [w for w in spec.extra_words if w not in SPECIALS]
    if len(words) > spec.vocab_size:
        raise ValueError(f"extra_words make {len(words)} tokens, more than vocab_size {spec.vocab_size}")
    words += [f"w{i}" for i in range(len(words), spec.vocab_size)]
    return words


def llama_config(spec: TinyLlamaSpec):
    """The transformers LlamaConfig for `spec` (special ids fixed: pad 0, bos 2, eos 3)."""
    from transformers import LlamaConfig

    return LlamaConfig(
        vocab_size=spec.vocab_size,
        hidden_size=spec.hidden_size,
        intermediate_size=spec.intermediate_size,
        num_hidden_layers=spec.num_hidden_layers,
        num_attention_heads=spec.num_attention_heads,
        num_key_value_heads=spec.num_key_value_heads,
        max_position_embeddings=spec.max_position_embeddings,
        rope_theta=spec.rope_theta,
        rms_norm_eps=spec.rms_norm_eps,
        tie_word_embeddings=spec.tie_word_embeddings,
        initializer_range=spec.initializer_range,
        hidden_act="silu",
        attention_bias=False,
        mlp_bias=False,
        pad_token_id=0,
        bos_token_id=2,
        eos_token_id=3,
    )


def word_tokenizer(words: list[str]):
    """A `tokenizers.Tokenizer`: WordLevel over `words`, split on whitespace, unknown -> <unk>."""
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers

    tok = Tokenizer(models.WordLevel(vocab={w: i for i, w in enumerate(words)}, unk_token=UNK))
    tok.pre_tokenizer = pre_tokenizers.WhitespaceSplit()
    # A word-level decode is the words joined by single spaces (WordPiece decoder with no
    # continuation prefix does exactly that and exists in both the Rust and JS libraries).
    tok.decoder = decoders.WordPiece(prefix="##", cleanup=False)
    tok.add_special_tokens(SPECIALS)
    return tok


def build_tiny_llama(out_dir: str | os.PathLike, spec: TinyLlamaSpec | None = None) -> Path:
    """Writes a random-initialised tiny Llama HF directory to `out_dir` and returns its path."""
    import torch
    from transformers import LlamaForCausalLM

    spec = spec or TinyLlamaSpec()
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    torch.manual_seed(spec.seed)
    model = LlamaForCausalLM(llama_config(spec))
    with torch.no_grad():
        # HF zero-initialises nothing in Llama except what we want random; norm weights start at
        # 1.0, which would leave the RMSNorm scale untested, so perturb them too.
        gen = torch.Generator().manual_seed(spec.seed + 1)
        for name, p in model.named_parameters():
            if "norm" in name:
                p.copy_(1.0 + 0.3 * torch.randn(p.shape, generator=gen))
    model.eval()
    model.save_pretrained(out, safe_serialization=True)
    word_tokenizer(vocabulary(spec)).save(str(out / "tokenizer.json"))
    (out / "tokenizer_config.json").write_text(
        json.dumps({"pad_token": PAD, "unk_token": UNK, "bos_token": BOS, "eos_token": EOS}, indent=2) + "\n"
    )
    return out
