"""Voice presets, read from the TOML files in ``voices/`` (one per language).

A preset has a friendly id ("xiaoxiao"), a label for menus, and a voice name per engine; see
``voices/zh-CN.toml`` for the format. Every preset must name an ``espeak`` voice, the offline
fallback that keeps the service speaking when edge is down.
"""

from __future__ import annotations

import tomllib
from collections.abc import Iterator
from pathlib import Path

from reader.errors import ConfigError, UnknownVoice
from reader.types import Voice

#: The engine every preset must have a voice for: the offline fallback.
OFFLINE_ENGINE = "espeak"


class VoiceBook:
    """All presets, in file order, and the default one."""

    def __init__(self, voices: list[Voice], default: str) -> None:
        self._voices = {voice.id: voice for voice in voices}
        if default not in self._voices:
            raise ConfigError(f"the default voice {default!r} is not a preset; {self._choices()}")
        self.default = self._voices[default]

    def __iter__(self) -> Iterator[Voice]:
        return iter(self._voices.values())

    def __len__(self) -> int:
        return len(self._voices)

    def get(self, name: str | None) -> Voice:
        """The preset called ``name`` (the default for None); ``UnknownVoice`` lists the choices."""
        if name is None:
            return self.default
        try:
            return self._voices[name]
        except KeyError:
            raise UnknownVoice(f"unknown voice {name!r}; {self._choices()}") from None

    def _choices(self) -> str:
        return "choose one of: " + ", ".join(self._voices)


def parse_voices(text: str, origin: str) -> list[Voice]:
    """The presets of one voices file; a malformed one raises ``ConfigError`` naming it."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{origin}: not valid TOML: {exc}") from exc
    language = str(data.get("language") or "")
    return [_voice(entry, language, origin) for entry in data.get("voice", [])]


def _voice(entry: dict[str, object], language: str, origin: str) -> Voice:
    voice_id = entry.get("id")
    engines = entry.get("engines")
    if not isinstance(voice_id, str) or not voice_id.isidentifier():
        raise ConfigError(
            f"{origin}: every voice needs an id (letters, digits, _), got {voice_id!r}"
        )
    if not isinstance(engines, dict) or not all(isinstance(v, str) for v in engines.values()):
        raise ConfigError(f"{origin}: voice {voice_id!r} needs engines = {{ edge = ..., ... }}")
    if OFFLINE_ENGINE not in engines:
        raise ConfigError(
            f"{origin}: voice {voice_id!r} names no {OFFLINE_ENGINE} voice; every preset needs"
            " the offline fallback"
        )
    return Voice(
        id=voice_id,
        label=str(entry.get("label") or voice_id),
        language=str(entry.get("language") or language),
        engines=dict(engines),
        gender=str(entry.get("gender") or ""),
        description=str(entry.get("description") or ""),
    )


def load_voices(folder: Path, default: str) -> VoiceBook:
    """Every ``*.toml`` in ``folder`` (Chinese first); duplicate ids are an error."""
    voices: list[Voice] = []
    seen: dict[str, Path] = {}
    # Chinese presets first (this is a Chinese-language service), then by file name.
    files = sorted(folder.glob("*.toml"), key=lambda p: (not p.name.startswith("zh"), p.name))
    if not files:
        raise ConfigError(f"no voice presets (*.toml) in {folder}")
    for path in files:
        try:
            text = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise ConfigError(f"cannot read voices file {path}: {exc}") from exc
        for voice in parse_voices(text, str(path)):
            if voice.id in seen:
                raise ConfigError(
                    f"voice {voice.id!r} is defined in both {seen[voice.id]} and {path}"
                )
            seen[voice.id] = path
            voices.append(voice)
    return VoiceBook(voices, default)
