"""An engine driven by a function: the shipped fake, like httpx's ``MockTransport``.

Tests and embedders pass ``async def speak(text, voice, prosody) -> Audio`` (or a plain
function) and get an engine that registers, caches and falls back like any other.
"""

from __future__ import annotations

import inspect
from collections.abc import Awaitable, Callable

from reader.engines.base import Engine
from reader.types import Audio, Prosody, Voice

SpeakFunction = Callable[[str, Voice, Prosody], Audio | Awaitable[Audio]]


class FunctionEngine(Engine):
    """Speaks by calling ``speak``; counts its calls in ``calls``."""

    def __init__(self, speak: SpeakFunction, name: str = "function", revision: str = "1") -> None:
        self._speak = speak
        self.name = name
        self.revision = revision
        self.calls: list[str] = []

    async def synthesize(self, text: str, voice: Voice, prosody: Prosody) -> Audio:
        self.calls.append(text)
        result = self._speak(text, voice, prosody)
        if inspect.isawaitable(result):
            return await result
        return result

    def voice_name(self, voice: Voice) -> str | None:
        # A fake speaks every preset: with the preset's own voice for it, else the preset id.
        return voice.for_engine(self.name) or voice.id
