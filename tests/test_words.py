"""Our own jieba tokenizer: cache in our folder, loaded once, lexicon words taught."""

from __future__ import annotations

from pathlib import Path

from reader.words import CACHE_FILE, Words, load_words


def test_dictionary_cache_lives_in_our_cache_folder(tmp_path: Path) -> None:
    load_words(tmp_path)
    assert (tmp_path / CACHE_FILE).stat().st_size > 1_000_000


def test_tokens_tile_the_text(words: Words) -> None:
    text = "2025世界智能产业博览会在重庆开幕。AI+ 3.14"
    tokens = words.tokens(text)
    assert "".join(t.word for t in tokens) == text
    assert all(text[t.start : t.end] == t.word for t in tokens)
    assert "博览会" in [t.word for t in tokens]


def test_added_word_comes_out_whole_without_tearing_stronger_words(tmp_path: Path) -> None:
    words = load_words(tmp_path, extra_words=["渝快办", "行长"])
    assert "渝快办" in [t.word for t in words.tokens("请使用渝快办办理")]
    assert [t.word for t in words.tokens("银行长期")] == ["银行", "长期"]
