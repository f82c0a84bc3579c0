"""Our own jieba tokenizer: cache in our folder, loaded once, lexicon words taught."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from reader.words import CACHE_FILE, Words, load_words


def test_dictionary_cache_lives_in_our_cache_folder(tmp_path: Path) -> None:
    # In a process of its own: this one loaded its dictionary (once) long ago.
    subprocess.run([sys.executable, "-c", "import sys, pathlib, reader.words as w;"
                    " w.load_words(pathlib.Path(sys.argv[1]))", str(tmp_path)], check=True)
    assert (tmp_path / CACHE_FILE).stat().st_size > 1_000_000


def test_words_added_to_one_tokenizer_stay_out_of_the_others(tmp_path: Path) -> None:
    lexicon = load_words(tmp_path, extra_words=["渝快办"])
    readings = load_words(tmp_path, extra_words=["千行百业"])
    plain = load_words(tmp_path)
    assert lexicon.knows("渝快办") and not readings.knows("渝快办")
    assert readings.knows("千行百业") and not plain.knows("千行百业")
    assert plain.knows("博览会") and lexicon.knows("博览会") and readings.knows("博览会")
    assert "渝快办" not in [t.word for t in plain.tokens("请使用渝快办办理")]


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
