"""The world tokenizer: fixed special ids, deterministic bytes, exact round trips, loadable by transformers."""

from __future__ import annotations

import json
import random
from pathlib import Path

import pytest
from tokenizers import Tokenizer
from transformers import AutoTokenizer

from cdpo_trainer.world.ops import OPS
from cdpo_trainer.world.tokenizer import build_vocab, load_world_tokenizer, train_world_tokenizer
from world_fixture import make_problem, write_corpus

SPECIALS = {"<pad>": 0, "<bos>": 1, "<eos>": 2, "<unk>": 3}


@pytest.fixture(scope="module")
def corpus(tmp_path_factory) -> Path:
    return write_corpus(tmp_path_factory.mktemp("corpus") / "corpus.jsonl", 300, seed=7)


@pytest.fixture(scope="module")
def tok_dir(corpus, tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("tok")
    train_world_tokenizer(corpus, out, model_max_length=512)
    return out


def test_special_ids_are_fixed(tok_dir):
    tok = Tokenizer.from_file(str(tok_dir / "tokenizer.json"))
    assert {name: tok.token_to_id(name) for name in SPECIALS} == SPECIALS


def test_same_corpus_gives_same_bytes_whatever_the_line_order(corpus, tmp_path):
    lines = corpus.read_text().splitlines(keepends=True)
    shuffled = tmp_path / "shuffled.jsonl"
    random.Random(0).shuffle(lines)
    shuffled.write_text("".join(lines))
    train_world_tokenizer(corpus, tmp_path / "a", model_max_length=512)
    train_world_tokenizer(shuffled, tmp_path / "b", model_max_length=512)
    for name in ("tokenizer.json", "tokenizer_config.json", "special_tokens_map.json"):
        assert (tmp_path / "a" / name).read_bytes() == (tmp_path / "b" / name).read_bytes()


def test_vocab_order_is_by_count_then_code_point():
    # Counts: "b" 3, "a" 2, "c" 2, digits 0 (0..9 are always present, ties sorted "0" < ... < "9"),
    # so b, then the tie a < c, then the ten digits.
    vocab = build_vocab(["b a c", "b a c b"])
    assert list(vocab)[4:] == ["b", "a", "c", *"0123456789"]
    assert list(vocab.values()) == list(range(len(vocab)))


def test_world_text_round_trips(tok_dir):
    tok = load_world_tokenizer(tok_dir)
    rng = random.Random(11)
    for _ in range(50):
        prompt, response, _ = make_problem(rng)
        for text in (prompt, response):
            ids = tok.encode(text).ids
            assert tok.token_to_id("<unk>") not in ids
            assert tok.decode(ids) == text


def test_digits_split_even_when_written_together(tok_dir):
    tok = load_world_tokenizer(tok_dir)
    assert tok.encode("answer 47").tokens == ["answer", "4", "7"]
    assert tok.encode("answer 47").ids == tok.encode("answer 4 7").ids


def test_no_specials_added_and_unknown_words_map_to_unk(tok_dir):
    tok = load_world_tokenizer(tok_dir)
    ids = tok.encode("mia zebra").ids
    assert ids == [tok.token_to_id("mia"), 3]


def test_autotokenizer_loads_the_same_tokenizer(tok_dir):
    hf = AutoTokenizer.from_pretrained(tok_dir)
    tok = load_world_tokenizer(tok_dir)
    text = "start 4 7 . then gain 4 7 + 1 2 = 5 9 . answer 5 9"
    assert (hf.pad_token_id, hf.bos_token_id, hf.eos_token_id, hf.unk_token_id) == (0, 1, 2, 3)
    assert hf(text)["input_ids"] == tok.encode(text).ids  # no bos/eos added
    # transformers' default space cleanup would write "9." here; the config turns it off.
    assert hf.decode(hf(text)["input_ids"]) == text


def test_op_reports_vocab_and_longest_sequence(corpus, tmp_path):
    result = OPS["train_tokenizer"]({"corpus_path": str(corpus), "out_dir": str(tmp_path), "model_max_length": 512}, lambda *a, **k: None)
    vocab = json.loads((tmp_path / "tokenizer.json").read_text())["model"]["vocab"]
    assert result["vocab_size"] == len(vocab)
    assert result["examples"] == 300
    tok = load_world_tokenizer(tmp_path)
    rows = [json.loads(line) for line in corpus.read_text().splitlines()]
    longest = max(2 + len(tok.encode(r["prompt"]).ids) + len(tok.encode(r["response"]).ids) for r in rows)
    assert result["max_sequence_tokens"] == longest


def test_missing_corpus_names_the_path(tmp_path):
    missing = tmp_path / "nope.jsonl"
    with pytest.raises(ValueError, match="nope.jsonl"):
        train_world_tokenizer(missing, tmp_path / "out", model_max_length=512)


def test_line_without_a_field_names_file_line_and_field(tmp_path):
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"id": "a", "prompt": "x", "response": "y"}\n\n{"id": "b", "prompt": "x"}\n')
    with pytest.raises(ValueError, match=r"bad\.jsonl:3: missing field 'response'"):
        train_world_tokenizer(bad, tmp_path / "out", model_max_length=512)
