"""The engine interface: one abstract coroutine, a stable name and a revision.

An engine turns one sentence into one ``Audio`` clip (MP3, 24 kHz, mono). ``name`` and
``revision`` both enter the cache key: bump ``revision`` whenever a change makes the engine
sound different, and old clips stop being served.

Engines raise only ``EngineError`` subclasses (``EngineUnavailable`` for transient failures,
``EngineRejected`` for permanent ones, ``BadAudio`` for clips that fail validation): third-party
exceptions are translated at the adapter's edge. Retries, deadlines and circuit breaking that
are specific to a remote service live in that engine; fallback between engines lives in
``reader.pipeline``, once.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import AsyncIterator

from reader.normalize import Level
from reader.types import Audio, Boundary, Prosody, Voice


class Engine(ABC):
    """A speech engine."""

    #: Stable name: in the registry, in cache keys, in every response ("edge", "espeak").
    name: str = ""
    #: Changes whenever the engine's output for the same input changes (cache key).
    revision: str = "1"
    #: How much normalisation its text needs: "full" (numbers, dates... spelled out) unless
    #: the engine reads them well itself ("light").
    level: Level = "full"

    @abstractmethod
    async def synthesize(self, text: str, voice: Voice, prosody: Prosody) -> Audio:
        """Speak ``text`` (already normalised, one sentence) with ``voice``."""

    async def stream(self, text: str, voice: Voice, prosody: Prosody, *,
                     eager: bool = True) -> AsyncIterator[bytes | Boundary]:
        """MP3 bytes as they are produced, and word boundaries as they are known. Engines
        that can stream override this; the default synthesises the whole clip and yields it
        at once. The caller validates the whole clip when the stream ends.

        ``eager``: a listener waits for the first bytes, so make them early even if the whole
        clip then takes longer; False when the clip is made ahead (a batch, an export), where
        only the whole counts.

        Bytes once yielded are final (a listener may have heard them): an engine that retries
        after yielding audio must continue the same clip, yielding only what follows, or
        raise."""
        audio = await self.synthesize(text, voice, prosody)
        for boundary in audio.boundaries:
            yield boundary
        yield audio.data

    def voice_name(self, voice: Voice) -> str | None:
        """The engine's own voice for a preset, or None if it cannot speak it."""
        return voice.for_engine(self.name)

    def state(self) -> str:
        """What the engine can do now, for /healthz: "ready", or why not (yet)."""
        return "ready"

    def preload(self) -> None:  # noqa: B027 (optional hook, not abstract)
        """Start loading what the engine needs (a model) in the background and return at
        once; called when the service starts. The default has nothing to load."""

    async def aclose(self) -> None:  # noqa: B027 (optional hook, not abstract)
        """Release connections and threads. The default has nothing to release."""

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.name} r{self.revision}>"
