"""The world's tokenizer: one token per word, one per digit, trained from the corpus.

A word-level vocabulary (not BPE) keeps the tokens the kit reasons about - the meaning word,
each digit - whole, so a critical token is always a word a person can read. The file is a
Hugging Face `tokenizer.json`, loadable by `tokenizers`, `transformers.AutoTokenizer` and the
TypeScript side alike.
"""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

from tokenizers import Tokenizer, decoders, models, pre_tokenizers

from cdpo_trainer.atomic import write_text_atomic
from cdpo_trainer.world.corpus import read_corpus

# Fixed ids: the model config, the TypeScript side and the sequence layout
# [bos] + prompt + response + [eos] all rely on them, whatever the corpus holds.
PAD, BOS, EOS, UNK = "<pad>", "<bos>", "<eos>", "<unk>"
SPECIAL_TOKENS = (PAD, BOS, EOS, UNK)
PAD_ID, BOS_ID, EOS_ID, UNK_ID = 0, 1, 2, 3

# Every digit gets a token even when the corpus lacks one, so any number can be written.
DIGITS = tuple("0123456789")

TOKENIZER_FILE = "tokenizer.json"
TOKENIZER_CONFIG_FILE = "tokenizer_config.json"
SPECIAL_TOKENS_MAP_FILE = "special_tokens_map.json"


def world_pre_tokenizer() -> pre_tokenizers.PreTokenizer:
    """Splits on whitespace, then every digit on its own, so "47" and "4 7" give the same tokens."""
    return pre_tokenizers.Sequence([pre_tokenizers.WhitespaceSplit(), pre_tokenizers.Digits(individual_digits=True)])


def build_vocab(texts: list[str]) -> dict[str, int]:
    """Maps token -> id: the specials at 0..3, then tokens by falling count, ties by code point.

    The order depends only on the multiset of texts, so the same corpus gives the same ids
    (and the same file bytes) whatever the order of its lines.
    """
    split = world_pre_tokenizer()
    counts: Counter[str] = Counter({d: 0 for d in DIGITS})
    for text in texts:
        counts.update(piece for piece, _ in split.pre_tokenize_str(text))
    for special in SPECIAL_TOKENS:
        counts.pop(special, None)
    ordered = sorted(counts, key=lambda tok: (-counts[tok], tok))
    return {tok: i for i, tok in enumerate(list(SPECIAL_TOKENS) + ordered)}


def build_tokenizer(vocab: dict[str, int]) -> Tokenizer:
    """A WordLevel tokenizer over `vocab` with no normalizer and no automatic special tokens."""
    for tok, want in zip(SPECIAL_TOKENS, (PAD_ID, BOS_ID, EOS_ID, UNK_ID)):
        if vocab.get(tok) != want:
            raise ValueError(f"Cannot build the world tokenizer: '{tok}' must have id {want}, found {vocab.get(tok)}")
    tok = Tokenizer(models.WordLevel(vocab=vocab, unk_token=UNK))
    tok.pre_tokenizer = world_pre_tokenizer()
    # WordPiece's decoder joins tokens with single spaces; its "##" continuation prefix never
    # occurs in world text, and cleanup=False keeps " ." and " ?" as they are written.
    tok.decoder = decoders.WordPiece(prefix="##", cleanup=False)
    # Registered as special so they never split and decode(skip_special_tokens=True) drops them;
    # no post-processor: the kit adds bos and eos itself.
    tok.add_special_tokens(list(SPECIAL_TOKENS))
    return tok


def tokenizer_config(model_max_length: int) -> dict:
    """The transformers-side description, so `AutoTokenizer.from_pretrained(dir)` loads the same tokenizer."""
    return {
        "tokenizer_class": "PreTrainedTokenizerFast",
        "pad_token": PAD,
        "bos_token": BOS,
        "eos_token": EOS,
        "unk_token": UNK,
        # transformers' default cleanup would turn "5 9 ." into "5 9." and break the round trip.
        "clean_up_tokenization_spaces": False,
        "add_bos_token": False,
        "add_eos_token": False,
        "model_max_length": model_max_length,
        "padding_side": "right",
    }


def special_tokens_map() -> dict:
    return {"pad_token": PAD, "bos_token": BOS, "eos_token": EOS, "unk_token": UNK}


def write_tokenizer_files(tok: Tokenizer, out_dir: str | Path, model_max_length: int) -> None:
    """Writes tokenizer.json, tokenizer_config.json and special_tokens_map.json into `out_dir`, each atomically."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    write_text_atomic(out / TOKENIZER_FILE, tok.to_str(pretty=True) + "\n")
    write_text_atomic(out / TOKENIZER_CONFIG_FILE, _json(tokenizer_config(model_max_length)))
    write_text_atomic(out / SPECIAL_TOKENS_MAP_FILE, _json(special_tokens_map()))


def train_world_tokenizer(corpus_path: str | Path, out_dir: str | Path, model_max_length: int) -> dict:
    """Trains the tokenizer on every prompt and response of the corpus and writes it to `out_dir`.

    Returns the path of tokenizer.json, the vocabulary size and the longest corpus sequence in
    tokens ([bos] + prompt + response + [eos]), which the policy's context must cover.
    """
    corpus = read_corpus(corpus_path)
    vocab = build_vocab([text for ex in corpus for text in (ex.prompt, ex.response)])
    tok = build_tokenizer(vocab)
    longest = max(2 + len(tok.encode(ex.prompt).ids) + len(tok.encode(ex.response).ids) for ex in corpus)
    write_tokenizer_files(tok, out_dir, model_max_length)
    return {
        "tokenizer_path": str(Path(out_dir) / TOKENIZER_FILE),
        "vocab_size": len(vocab),
        "examples": len(corpus),
        "max_sequence_tokens": longest,
    }


def load_world_tokenizer(path: str | Path) -> Tokenizer:
    """Loads tokenizer.json from a file or from the directory that holds it, checking the fixed special ids."""
    p = Path(path)
    if p.is_dir():
        p = p / TOKENIZER_FILE
    if not p.is_file():
        raise ValueError(f"Cannot load the world tokenizer: {p} does not exist (run train_tokenizer first)")
    tok = Tokenizer.from_file(str(p))
    for name, want in zip(SPECIAL_TOKENS, (PAD_ID, BOS_ID, EOS_ID, UNK_ID)):
        if tok.token_to_id(name) != want:
            raise ValueError(f"Cannot load the world tokenizer: {p} gives '{name}' id {tok.token_to_id(name)}, expected {want}")
    return tok


def _json(value: dict) -> str:
    return json.dumps(value, indent=2, sort_keys=True) + "\n"
