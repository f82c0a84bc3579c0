"""Settings from an environment mapping."""

from __future__ import annotations

from pathlib import Path

import pytest

from reader.config import Settings, data_dir
from reader.errors import ConfigError


def test_defaults() -> None:
    settings = Settings.from_env({"HOME": "/home/x"})
    assert settings.max_sentence_chars == 80
    assert settings.max_input_chars == 200_000
    assert settings.read_captions is False
    assert (settings.host, settings.port) == ("127.0.0.1", 8000)
    assert settings.rules_files == (data_dir("rules") / "chrome.toml",)
    assert settings.lexicon_files == (data_dir("voices") / "lexicon-zh.tsv",)
    assert all(path.is_file() for path in settings.rules_files + settings.lexicon_files)


def test_cache_dir_follows_xdg() -> None:
    settings = Settings.from_env({"XDG_CACHE_HOME": "/tmp/xdg"})
    assert settings.cache_dir == Path("/tmp/xdg/reader")


def test_values_are_read() -> None:
    env = {
        "READER_CACHE_DIR": "/tmp/c",
        "READER_RULES": "/a.toml:/b.toml",
        "READER_MAX_SENTENCE_CHARS": "60",
        "READER_READ_CAPTIONS": "yes",
        "READER_PORT": "9000",
    }
    settings = Settings.from_env(env)
    assert settings.cache_dir == Path("/tmp/c")
    assert settings.rules_files == (Path("/a.toml"), Path("/b.toml"))
    assert settings.max_sentence_chars == 60
    assert settings.read_captions is True
    assert settings.port == 9000


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        ("READER_MAX_SENTENCE_CHARS", "eighty", "must be a whole number"),
        ("READER_MAX_SENTENCE_CHARS", "3", "at least 10"),
        ("READER_PORT", "70000", "between 1 and 65535"),
        ("READER_READ_CAPTIONS", "maybe", "true or false"),
    ],
)
def test_bad_values_say_what_is_wrong(name: str, value: str, message: str) -> None:
    with pytest.raises(ConfigError, match=f"{name} {message}|{name} must be {message}"):
        Settings.from_env({name: value})


def test_unknown_reader_variables_are_kept_for_warnings() -> None:
    assert Settings.from_env({"READER_TYPO": "1"}).extra == {"READER_TYPO": "1"}
