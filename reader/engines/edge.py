"""The edge engine: Microsoft Edge's online neural voices through the real edge-tts client.

One sentence per request. What the client does not do for us (see shared/EDGE-NOTES.md) is
done here: a deadline on every read (the client's own timeout only bounds the handshake), a
shorter one for the first audio byte (a listener is waiting: a silent Edge must hand the
sentence to the next engine in seconds, not at the end of the whole request's deadline),
retries with capped exponential backoff and jitter for transient failures, none for permanent
ones or after a deadline, a cap on concurrent connections (Microsoft throttles floods), a
circuit breaker so an outage costs one failed request instead of one per sentence, and
validation of every clip (a dropped stream ends quietly with partial audio).

A stream that breaks after audio went out is retried too, in the same loop: the retry's
output must repeat what was passed on byte for byte (``_PassedOn``), and only what follows it
is passed on, so the listener never hears the cut. Edge's output for one request is normally
deterministic, but that is checked on every byte, never assumed: a retry that differs ends the
stream (``StreamDiverged``).

Every third-party exception is translated here into ``EngineUnavailable`` (transient),
``EngineRejected`` (permanent) or ``BadAudio``.
"""

from __future__ import annotations

import asyncio
import logging
import random
import re
from collections.abc import AsyncGenerator, AsyncIterator, Awaitable, Callable
from contextlib import aclosing
from typing import Any, Protocol

import aiohttp
import edge_tts
import edge_tts.communicate
import edge_tts.exceptions
import edge_tts.voices

from reader.audio import clip_duration_ms
from reader.engines.base import Engine
from reader.engines.breaker import CircuitBreaker, Permit
from reader.engines.validate import check_clip
from reader.errors import (
    BadAudio,
    EngineError,
    EngineRejected,
    EngineTimeout,
    EngineUnavailable,
)
from reader.types import Audio, Boundary, Prosody, Voice

log = logging.getLogger(__name__)

#: edge-tts reports offsets and durations in 100-nanosecond ticks.
TICKS_PER_MS = 10_000
#: Seconds allowed for the voice list (it is small; a slow answer means trouble).
VOICE_LIST_TIMEOUT = 5.0
#: Handshake statuses worth a retry: throttled, or the service is having a bad day.
TRANSIENT_STATUSES = frozenset({408, 429, 500, 502, 503, 504})
#: Handshake statuses that mean our request itself is wrong: no retry, no breaker count.
REQUEST_STATUSES = frozenset({400, 413, 414, 422})
#: Speakable characters allowed after the last word Edge reported: a clip whose words stop
#: earlier was cut short, however long it lasts.
UNREPORTED_TAIL = 2
#: edge-tts's own exceptions for a malformed or empty answer: the service, not our input.
_EDGE_ERRORS = (
    edge_tts.exceptions.NoAudioReceived,
    edge_tts.exceptions.UnexpectedResponse,
    edge_tts.exceptions.UnknownResponse,
    edge_tts.exceptions.WebSocketError,
    edge_tts.exceptions.SkewAdjustmentError,
)
_SPEAKABLE = re.compile(r"[^\W_]")

Item = bytes | Boundary


class StreamDiverged(EngineUnavailable):
    """A retry's audio differs from what the broken attempt had already passed on: the stream
    cannot be continued, and what went out stays a cut clip."""


class Communicate(Protocol):
    """What we use of ``edge_tts.Communicate`` (the real class is the default)."""

    def stream(self) -> Any: ...


CommunicateFactory = Callable[..., Communicate]


def prosody_args(prosody: Prosody) -> dict[str, str]:
    """Edge's prosody strings: ``rate="+10%"``, ``volume="-5%"``, ``pitch="+3Hz"``."""
    return {
        "rate": f"{prosody.rate:+d}%",
        "volume": f"{prosody.volume:+d}%",
        "pitch": f"{prosody.pitch:+d}Hz",
    }


class EdgeEngine(Engine):
    """Edge's neural voices, one sentence per request, with retries and a breaker."""

    name = "edge"
    revision = f"edge-tts-{edge_tts.__version__}"
    level = "light"  # neural voices read numbers, dates and units well by themselves

    def __init__(
        self,
        *,
        communicate: CommunicateFactory = edge_tts.Communicate,
        url: str | None = None,
        voice_list_url: str | None = None,
        proxy: str | None = None,
        timeout: float = 15.0,
        first_byte_timeout: float = 3.0,
        retries: int = 2,
        connections: int = 4,
        breaker: CircuitBreaker | None = None,
        backoff_base: float = 0.25,
        backoff_cap: float = 4.0,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
        jitter: Callable[[], float] = random.random,
        list_voices: Callable[..., Awaitable[list[Any]]] = edge_tts.list_voices,
    ) -> None:
        # edge-tts reads these module globals at call time: one endpoint per process.
        if url:
            setattr(edge_tts.communicate, "WSS_URL", url)  # noqa: B010 (not re-exported)
        if voice_list_url:
            setattr(edge_tts.voices, "VOICE_LIST", voice_list_url)  # noqa: B010
        self._communicate = communicate
        self._proxy = proxy
        self.timeout = timeout
        #: Seconds from opening a connection to the first audio byte (never past ``timeout``).
        self.first_byte_timeout = min(first_byte_timeout, timeout)
        self.retries = retries
        self._slots = asyncio.Semaphore(connections)
        self.breaker = breaker or CircuitBreaker()
        self._backoff_base = backoff_base
        self._backoff_cap = backoff_cap
        self._sleep = sleep
        self._jitter = jitter
        self._list_voices = list_voices
        self._voices: frozenset[str] | None = None
        self._voice_list: asyncio.Task[frozenset[str] | None] | None = None

    # ------------------------------------------------------------ the engine interface

    async def synthesize(self, text: str, voice: Voice, prosody: Prosody) -> Audio:
        """The whole clip: each attempt is collected before anything is returned, so a clip
        cut short is retried like any transient failure."""
        name = await self._usable_voice(voice, prosody)
        items = [item async for item in self._request(text, name, prosody, buffered=True)]
        data = b"".join(item for item in items if isinstance(item, bytes))
        boundaries = tuple(item for item in items if isinstance(item, Boundary))
        return Audio(data, clip_duration_ms(data), self.name, name, boundaries)

    async def stream(self, text: str, voice: Voice, prosody: Prosody, *,
                     eager: bool = True) -> AsyncIterator[Item]:
        """Audio bytes (and word boundaries) as Edge sends them: the first arrive after
        Edge's first-byte delay, not after the whole sentence. Transient failures are retried;
        once audio has been passed on, a retry only continues the stream if it repeats that
        audio exactly (else ``StreamDiverged``). The clip is validated when it ends:
        ``BadAudio`` then means the bytes already passed on were a cut-short clip. Edge
        streams as it speaks: ``eager`` changes nothing."""
        name = await self._usable_voice(voice, prosody)
        async for item in self._request(text, name, prosody, buffered=False):
            yield item

    def backoff(self, attempt: int) -> float:
        """Full-jitter exponential backoff: uniform in [0, min(cap, base * 2^attempt)]."""
        return self._jitter() * min(self._backoff_cap, self._backoff_base * 2.0**attempt)

    # ------------------------------------------------------------ one request, its attempts

    async def _request(self, text: str, name: str, prosody: Prosody,
                       buffered: bool) -> AsyncIterator[Item]:
        """Attempts until one succeeds; the breaker hears once per request, not per attempt.

        Streamed, every attempt goes through one ``_PassedOn``: after a break, the retry
        continues the stream where the listener stopped hearing it, or fails. No retry after a
        deadline (the listener is waiting; the next engine should speak) nor after a retry
        that diverged (a third take would not make the second one match)."""
        permit = self._permit()
        passed = _PassedOn()
        try:
            for attempt in range(self.retries + 1):
                try:
                    if buffered:
                        items = [item async for item in self._attempt(text, name, prosody)]
                    else:
                        attempt_items = self._attempt(text, name, prosody)
                        async with aclosing(passed.beyond(attempt_items)) as fresh:
                            async for item in fresh:
                                yield item
                        items = []
                except (EngineUnavailable, BadAudio) as exc:
                    last = attempt == self.retries
                    if last or isinstance(exc, EngineTimeout | StreamDiverged):
                        permit.failure(trip=isinstance(exc, EngineTimeout))
                        raise
                    log.info("edge: %s; retry %d of %d", exc, attempt + 1, self.retries)
                    await self._sleep(self.backoff(attempt))
                    continue
                for item in items:
                    yield item
                permit.success()
                return
        finally:
            permit.release()  # cancelled, rejected, or the consumer stopped early: no verdict

    async def _attempt(self, text: str, name: str,
                       prosody: Prosody) -> AsyncGenerator[Item, None]:
        """One connection: items as they come, each read under the deadline, and the clip
        validated when the stream ends (``BadAudio`` if it was cut short)."""
        data = bytearray()
        boundaries: list[Boundary] = []
        async with self._slots, aclosing(self._chunks(text, name, prosody)) as chunks:
            loop = asyncio.get_running_loop()
            opened = loop.time()  # the clock starts with the connection, not in our queue
            first_byte_by, deadline = opened + self.first_byte_timeout, opened + self.timeout
            while True:
                until = deadline if data else first_byte_by
                try:
                    chunk = await asyncio.wait_for(anext(chunks), max(until - loop.time(), 0))
                except StopAsyncIteration:
                    break
                except TimeoutError:
                    raise self._late(heard=bool(data)) from None
                item = chunk["data"] if chunk["type"] == "audio" else _boundary(chunk)
                if isinstance(item, bytes):
                    data += item
                else:
                    boundaries.append(item)
                yield item
        audio = Audio(bytes(data), clip_duration_ms(bytes(data)), self.name, name,
                      tuple(boundaries))
        check_clip(audio, text, prosody)
        _check_words_reported(audio, text)

    def _late(self, heard: bool) -> EngineTimeout:
        """The deadline that passed: the whole request's, or the first audio byte's."""
        if heard:
            return EngineTimeout(f"edge did not finish within {self.timeout:g} s", self.name)
        return EngineTimeout(f"edge sent no audio within {self.first_byte_timeout:g} s",
                             self.name)

    async def _chunks(self, text: str, name: str,
                      prosody: Prosody) -> AsyncGenerator[Any, None]:
        """The client's chunks (audio and boundaries), its exceptions translated."""
        try:
            communicate = self._communicate(text, name, boundary="WordBoundary",
                                            proxy=self._proxy, **prosody_args(prosody))
        except (ValueError, TypeError) as exc:  # the client's own argument checks
            raise EngineRejected(f"edge cannot use these settings: {exc}", self.name) from exc
        try:
            async for chunk in communicate.stream():
                yield chunk
        except aiohttp.WSServerHandshakeError as exc:
            raise self._handshake_error(exc) from exc
        except edge_tts.exceptions.NoAudioReceived as exc:
            raise EngineUnavailable(f"edge sent no audio for voice {name}", self.name) from exc
        except (*_EDGE_ERRORS, aiohttp.ClientError, OSError, ValueError) as exc:
            raise EngineUnavailable(f"edge failed: {type(exc).__name__}: {exc}",
                                    self.name) from exc

    # ------------------------------------------------------------ checks before a request

    def _permit(self) -> Permit:
        permit = self.breaker.allow()
        if permit is None:
            raise EngineUnavailable(
                f"edge is resting after repeated failures; next try in"
                f" {self.breaker.retry_after():.0f} s",
                self.name,
            )
        return permit

    async def _usable_voice(self, voice: Voice, prosody: Prosody) -> str:
        """The edge voice for ``voice``, after the checks that make a request pointless."""
        name = self.voice_name(voice)
        if not name:
            raise EngineRejected(f"voice {voice.id!r} has no edge voice", self.name)
        if problems := prosody.problems():
            raise EngineRejected("edge cannot use this prosody: " + "; ".join(problems), self.name)
        known = await self._known_voices()
        if known is not None and name not in known:
            raise EngineRejected(f"edge has no voice {name!r}; it may have been retired"
                                 " (replace it in the voices/ file)", self.name)
        return name

    async def _known_voices(self) -> frozenset[str] | None:
        """Edge's voice names, fetched once and shared by every caller; None while unknown.

        The fetch goes through the breaker like a request: while Edge is resting nobody
        waits for it, and a failed fetch counts against Edge (and is tried again later).
        """
        if self._voices is not None:
            return self._voices
        if self._voice_list is None:
            permit = self.breaker.allow()
            if permit is None:
                return None
            self._voice_list = asyncio.create_task(self._fetch_voice_list(permit))
        task = self._voice_list
        voices = await asyncio.shield(task)
        if task is self._voice_list:
            self._voices, self._voice_list = voices, None
        return voices

    async def _fetch_voice_list(self, permit: Permit) -> frozenset[str] | None:
        try:
            # A listener may be waiting behind the list: no longer than for a first byte.
            listed = await asyncio.wait_for(self._list_voices(proxy=self._proxy),
                                            min(self.first_byte_timeout, VOICE_LIST_TIMEOUT))
            voices = frozenset(str(entry["ShortName"]) for entry in listed)
        except Exception as exc:  # best effort: without the list, requests find out themselves
            log.info("edge: voice list unavailable (%s: %s)", type(exc).__name__, exc)
            permit.failure(trip=isinstance(exc, TimeoutError))
            return None
        permit.success()
        return voices

    def _handshake_error(self, exc: aiohttp.WSServerHandshakeError) -> EngineError:
        if exc.status in REQUEST_STATUSES:
            return EngineRejected(f"edge refused the request (HTTP {exc.status})", self.name)
        if exc.status == 403:
            # The client already corrected its clock and retried once: Microsoft refuses us.
            return EngineUnavailable("edge refused the connection (HTTP 403)", self.name)
        # 429/5xx are transient; any other status (404, 401...) means the endpoint is wrong
        # or has moved: not our text's fault, and worth opening the breaker over.
        return EngineUnavailable(f"edge answered HTTP {exc.status}", self.name)


class _PassedOn:
    """What a streamed request has passed on so far, so that a retry can continue it.

    The listener has heard these bytes and cannot un-hear them: a retry is usable only if it
    repeats them exactly. ``beyond`` compares the retry's output with them, byte for byte as
    it arrives (and its word boundaries one for one), passes on only what lies past them, and
    raises ``StreamDiverged`` at the first difference, without waiting for the rest.
    """

    def __init__(self) -> None:
        self.audio = bytearray()
        self.boundaries: list[Boundary] = []

    async def beyond(self, attempt: AsyncGenerator[Item, None]) -> AsyncGenerator[Item, None]:
        """The attempt's items past what was passed on (all of them on a first attempt); the
        attempt is closed (its connection and slot freed) as soon as this ends."""
        heard = words = 0  # how far into this attempt's own audio and boundaries
        async with aclosing(attempt):
            async for item in attempt:
                if isinstance(item, Boundary):
                    words += 1
                    if self._new_boundary(item, words):
                        yield item
                    continue
                fresh = self._new_audio(item, heard)
                heard += len(item)
                if fresh:
                    yield fresh
        # A whole, valid clip that is shorter than what went out is another take too.
        self._check(heard >= len(self.audio), "audio")

    def _new_boundary(self, boundary: Boundary, number: int) -> bool:
        """Is the attempt's ``number``-th boundary new? One passed on already must match."""
        if number <= len(self.boundaries):
            self._check(boundary == self.boundaries[number - 1], "word boundaries")
            return False
        self.boundaries.append(boundary)
        return True

    def _new_audio(self, chunk: bytes, offset: int) -> bytes:
        """The part of ``chunk`` (at ``offset`` in the attempt's audio) not passed on yet;
        the part that was must be the same bytes."""
        repeated = min(len(chunk), max(len(self.audio) - offset, 0))
        self._check(chunk[:repeated] == self.audio[offset : offset + repeated], "audio")
        fresh = chunk[repeated:]
        self.audio += fresh
        return fresh

    def _check(self, same: bool, what: str) -> None:
        if not same:
            raise StreamDiverged(f"edge's retry differs from the {what} already passed on"
                                 f" ({len(self.audio)} bytes): the clip cannot be continued",
                                 "edge")


def _boundary(chunk: dict[str, Any]) -> Boundary:
    kind = "word" if chunk["type"] == "WordBoundary" else "sentence"
    return Boundary(kind=kind, text=str(chunk.get("text", "")),
                    offset_ms=float(chunk["offset"]) / TICKS_PER_MS,
                    duration_ms=float(chunk["duration"]) / TICKS_PER_MS)


def _check_words_reported(audio: Audio, text: str) -> None:
    """Edge reports every word it speaks; a clip whose words stop short of the text's end was
    cut short, even when its length looks plausible (70 % of a sentence passes a length test)."""
    words = [b.text for b in audio.boundaries if b.kind == "word" and b.text]
    if not words:
        return  # an engine or mirror that reports no words: the length check must do
    position = 0
    for word in words:
        found = text.find(word, position)
        if found >= 0:
            position = found + len(word)
    unreported = len(_SPEAKABLE.findall(text[position:]))
    if unreported > UNREPORTED_TAIL:
        raise BadAudio(f"edge's clip stops before the end of the sentence ({unreported}"
                       f" characters after the last word it reported): the clip was cut short",
                       "edge")
