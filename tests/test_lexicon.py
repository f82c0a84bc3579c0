"""The pronunciation lexicon: parsing, and entries that fire only on whole words."""

from __future__ import annotations

from pathlib import Path

import pytest

from reader.config import data_dir
from reader.errors import ConfigError
from reader.lexicon import Lexicon, load_lexicon, parse_lexicon
from reader.words import Words


def test_parse_accepts_tabs_equals_and_comments() -> None:
    text = "# comment\n\n苗圩\t苗围\nCMG = C M G\n  行长\t\t航长  \n"
    assert parse_lexicon(text) == {"苗圩": "苗围", "CMG": "C M G", "行长": "航长"}


@pytest.mark.parametrize("line", ["苗圩", "苗圩\t", "\t苗围", "苗圩 苗围"])
def test_parse_names_the_bad_line(line: str) -> None:
    with pytest.raises(ConfigError, match=r"lex.tsv:2: expected 'word<TAB>how to say it'"):
        parse_lexicon("# ok\n" + line, "lex.tsv")


@pytest.mark.parametrize("line", ['苗圩\t<break time="1s"/>苗围', "苗圩\t苗围&", "苗圩\t苗\x01围"])
def test_readings_cannot_carry_markup(line: str) -> None:
    with pytest.raises(ConfigError, match="lex.tsv:1: .*plain text"):
        parse_lexicon(line, "lex.tsv")


def test_later_files_override_earlier(tmp_path: Path) -> None:
    first, second = tmp_path / "a.tsv", tmp_path / "b.tsv"
    first.write_text("长安\t常安\n重庆\t虫庆\n", encoding="utf-8")
    second.write_text("重庆\t崇庆\n", encoding="utf-8")
    assert load_lexicon([first, second]).entries == {"长安": "常安", "重庆": "崇庆"}


def test_missing_file_is_a_config_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="cannot read lexicon"):
        load_lexicon([tmp_path / "missing.tsv"])


def test_shipped_lexicon_parses() -> None:
    lexicon = load_lexicon([data_dir("voices") / "lexicon-zh.tsv"])
    assert lexicon.entries["苗圩"] == "苗围"


# Entries fire on whole words only. (text, entries, expected pieces as (text, say))
WHOLE_WORDS = [
    ("行长说", {"行长": "航长"}, [("行长", "航长"), ("说", None)]),
    ("银行长期发展", {"行长": "航长"}, [("银行长期发展", None)]),
    ("苗圩出席", {"苗圩": "苗围"}, [("苗圩", "苗围"), ("出席", None)]),
    ("启动CMG挑战赛", {"CMG": "C M G"}, [("启动", None), ("CMG", "C M G"), ("挑战赛", None)]),
    ("CMGX", {"CMG": "C M G"}, [("CMGX", None)]),
    ("", {"行长": "航长"}, []),
    ("没有词条", {}, [("没有词条", None)]),
]


@pytest.mark.parametrize(("text", "entries", "expected"), WHOLE_WORDS)
def test_entries_fire_on_whole_words_only(
    words: Words, text: str, entries: dict[str, str], expected: list[tuple[str, str | None]]
) -> None:
    for word in entries:
        words.add(word)
    pieces = Lexicon(entries).split(text, words)
    assert [(p.text, p.say) for p in pieces] == expected
    assert "".join(p.text for p in pieces) == text
