"""Voice presets from voices/*.toml."""

from __future__ import annotations

from pathlib import Path

import pytest

from reader.config import data_dir
from reader.engines.kokoro_model import VoiceFolder
from reader.errors import ConfigError, UnknownVoice
from reader.voices import load_voices, parse_voices

SHIPPED = data_dir("voices")


def test_shipped_presets_cover_what_the_assistant_needs() -> None:
    book = load_voices(SHIPPED, "xiaoxiao")
    assert book.default.id == "xiaoxiao"
    assert book.default.for_engine("edge") == "zh-CN-XiaoxiaoNeural"
    edge = {voice.for_engine("edge") for voice in book}
    assert {"zh-CN-YunyangNeural", "zh-CN-sichuan-YunxiNeural", "zh-HK-HiuMaanNeural",
            "zh-TW-HsiaoChenNeural", "en-US-AriaNeural"} <= edge
    assert all(voice.for_engine("espeak") for voice in book)
    assert book.get("hiumaan").for_engine("espeak") == "yue"
    assert {voice.language for voice in book} >= {"zh-CN", "zh-HK", "zh-TW", "en-US"}


def test_every_mandarin_preset_names_a_shipped_kokoro_voice() -> None:
    book = load_voices(SHIPPED, "xiaoxiao")
    pinned = VoiceFolder(SHIPPED / "kokoro").names()
    expected = {"xiaoxiao": "zf_xiaoxiao", "yunyang": "zm_yunyang", "yunjian": "zm_yunjian",
                "hsiaochen": "zf_xiaoni"}
    assert {v.id: v.for_engine("kokoro") for v in book if v.for_engine("kokoro")} == expected
    assert set(expected.values()) <= set(pinned)  # each named voice ships, pinned by sha256
    # No offline neural voice speaks Sichuanese or Cantonese: those keep espeak.
    for dialect in ("sichuan", "hiumaan"):
        assert book.get(dialect).for_engine("kokoro") is None
        assert book.get(dialect).for_engine("espeak")


def test_unknown_voice_names_the_choices() -> None:
    book = load_voices(SHIPPED, "xiaoxiao")
    with pytest.raises(UnknownVoice, match="unknown voice 'nobody'; choose one of: .*xiaoxiao"):
        book.get("nobody")
    assert book.get(None) is book.default


def test_unknown_default_is_a_config_error() -> None:
    with pytest.raises(ConfigError, match="default voice 'nobody'"):
        load_voices(SHIPPED, "nobody")


def test_replacing_a_blocked_voice_is_a_data_change(tmp_path: Path) -> None:
    text = (SHIPPED / "zh-CN.toml").read_text(encoding="utf-8")
    (tmp_path / "zh-CN.toml").write_text(
        text.replace("zh-CN-XiaoxiaoNeural", "zh-CN-XiaoyiNeural"), encoding="utf-8")
    assert load_voices(tmp_path, "xiaoxiao").default.for_engine("edge") == "zh-CN-XiaoyiNeural"


@pytest.mark.parametrize(
    ("toml", "message"),
    [
        ("[[voice]\n", "not valid TOML"),
        ('[[voice]]\nid = "a b"\nengines = { espeak = "cmn" }\n', "needs an id"),
        ('[[voice]]\nid = "a"\n', "needs engines"),
        ('[[voice]]\nid = "a"\nengines = { edge = "zh-CN-XiaoxiaoNeural" }\n', "no espeak voice"),
    ],
)
def test_bad_voices_file(toml: str, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        parse_voices(toml, "x.toml")


def test_duplicate_ids_across_files(tmp_path: Path) -> None:
    entry = '[[voice]]\nid = "a"\nengines = { espeak = "cmn" }\n'
    (tmp_path / "one.toml").write_text(entry, encoding="utf-8")
    (tmp_path / "two.toml").write_text(entry, encoding="utf-8")
    with pytest.raises(ConfigError, match="defined in both"):
        load_voices(tmp_path, "a")


def test_empty_folder(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="no voice presets"):
        load_voices(tmp_path, "a")
