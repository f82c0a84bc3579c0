"""The edge engine: Microsoft Edge's online neural voices through the real edge-tts client.

One sentence per request. What the client does not do for us (see shared/EDGE-NOTES.md) is
done here: a deadline around the whole request (the client's own timeout only bounds the
handshake), retries with capped exponential backoff and jitter for transient failures, none
for permanent ones, a cap on concurrent connections (Microsoft throttles floods), a circuit
breaker so an outage costs a few failures instead of one per sentence, and validation of the
clip's length (a dropped stream ends quietly with partial audio).

Every third-party exception is translated here into ``EngineUnavailable`` (transient),
``EngineRejected`` (permanent) or ``BadAudio``.
"""

from __future__ import annotations

import asyncio
import logging
import random
import time
from collections.abc import AsyncGenerator, AsyncIterator, Awaitable, Callable
from typing import Any, Protocol

import aiohttp
import edge_tts
import edge_tts.communicate
import edge_tts.exceptions
import edge_tts.voices

from reader.engines.base import Engine
from reader.engines.breaker import CircuitBreaker
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
#: Seconds to wait before fetching the voice list again after a failed fetch.
VOICE_LIST_RETRY = 300.0
#: Handshake statuses worth a retry: throttled, or the service is having a bad day.
TRANSIENT_STATUSES = frozenset({408, 429, 500, 502, 503, 504})
#: edge-tts's own exceptions for a malformed or empty answer: the service, not our input.
_EDGE_ERRORS = (
    edge_tts.exceptions.NoAudioReceived,
    edge_tts.exceptions.UnexpectedResponse,
    edge_tts.exceptions.UnknownResponse,
    edge_tts.exceptions.WebSocketError,
    edge_tts.exceptions.SkewAdjustmentError,
)


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
        retries: int = 2,
        connections: int = 4,
        breaker: CircuitBreaker | None = None,
        backoff_base: float = 0.25,
        backoff_cap: float = 4.0,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
        jitter: Callable[[], float] = random.random,
        list_voices: Callable[..., Awaitable[list[Any]]] = edge_tts.list_voices,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        # edge-tts reads these module globals at call time: one endpoint per process.
        if url:
            setattr(edge_tts.communicate, "WSS_URL", url)  # noqa: B010 (not re-exported)
        if voice_list_url:
            setattr(edge_tts.voices, "VOICE_LIST", voice_list_url)  # noqa: B010
        self._communicate = communicate
        self._proxy = proxy
        self.timeout = timeout
        self.retries = retries
        self._slots = asyncio.Semaphore(connections)
        self.breaker = breaker or CircuitBreaker()
        self._backoff_base = backoff_base
        self._backoff_cap = backoff_cap
        self._sleep = sleep
        self._jitter = jitter
        self._list_voices = list_voices
        self._clock = clock
        self._voices: frozenset[str] | None = None
        self._voices_retry_at = 0.0

    # ------------------------------------------------------------ the engine interface

    async def synthesize(self, text: str, voice: Voice, prosody: Prosody) -> Audio:
        name = await self._usable_voice(voice, prosody)
        for attempt in range(self.retries + 1):
            self._check_breaker()
            try:
                audio = await self._attempt(text, name, prosody)
            except EngineRejected:
                self.breaker.release()
                raise
            except (EngineUnavailable, BadAudio) as exc:
                self.breaker.failure()
                # A timeout already cost the whole deadline: fall back instead of waiting again.
                if attempt == self.retries or isinstance(exc, EngineTimeout):
                    raise
                log.info("edge: %s; retry %d of %d", exc, attempt + 1, self.retries)
                await self._sleep(self.backoff(attempt))
                continue
            except BaseException:
                self.breaker.release()
                raise
            self.breaker.success()
            return audio
        raise AssertionError("unreachable: the last attempt returns or raises")

    def backoff(self, attempt: int) -> float:
        """Full-jitter exponential backoff: uniform in [0, min(cap, base * 2^attempt)]."""
        return self._jitter() * min(self._backoff_cap, self._backoff_base * 2.0**attempt)

    # ------------------------------------------------------------ one attempt

    async def _attempt(self, text: str, name: str, prosody: Prosody) -> Audio:
        try:
            async with self._slots:
                audio = await asyncio.wait_for(self._request(text, name, prosody), self.timeout)
        except TimeoutError:
            message = f"edge did not finish within {self.timeout:g} s"
            raise EngineTimeout(message, self.name) from None
        check_clip(audio, text, prosody)
        return audio

    async def _request(self, text: str, name: str, prosody: Prosody) -> Audio:
        chunks: list[bytes] = []
        boundaries: list[Boundary] = []
        async for chunk in self._chunks(text, name, prosody):
            if chunk["type"] == "audio":
                chunks.append(chunk["data"])
            else:
                boundaries.append(_boundary(chunk))
        data = b"".join(chunks)
        # 48 kbit/s CBR: the byte count gives the duration exactly (EDGE-NOTES.md).
        return Audio(data=data, duration_ms=len(data) * 8 / 48, engine=self.name, voice=name,
                     boundaries=tuple(boundaries))

    async def _chunks(self, text: str, name: str, prosody: Prosody) -> AsyncGenerator[Any, None]:
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

    # ------------------------------------------------------------ streaming

    async def stream(self, text: str, voice: Voice,
                     prosody: Prosody) -> AsyncIterator[bytes | Boundary]:
        """Audio bytes (and word boundaries) as Edge sends them: the first arrive after
        Edge's first-byte delay, not after the whole sentence. Transient failures are retried
        like ``synthesize`` while nothing has been passed on; after that there is no taking
        it back, and the caller validates the whole clip when the stream ends."""
        name = await self._usable_voice(voice, prosody)
        for attempt in range(self.retries + 1):
            self._check_breaker()
            passed_on = False
            try:
                async for item in self._stream_once(text, name, prosody):
                    passed_on = True
                    yield item
            except EngineRejected:
                self.breaker.release()
                raise
            except (EngineUnavailable, BadAudio) as exc:
                self.breaker.failure()
                if passed_on or attempt == self.retries or isinstance(exc, EngineTimeout):
                    raise
                log.info("edge: %s; retry %d of %d", exc, attempt + 1, self.retries)
                await self._sleep(self.backoff(attempt))
                continue
            except BaseException:
                self.breaker.release()
                raise
            self.breaker.success()
            return

    async def _stream_once(self, text: str, name: str,
                           prosody: Prosody) -> AsyncIterator[bytes | Boundary]:
        chunks = self._chunks(text, name, prosody)
        try:
            async with self._slots:
                # A deadline per read, not asyncio.timeout() around the loop: a timeout
                # scope must not span a yield (it would cancel the consumer, not us).
                loop = asyncio.get_running_loop()
                deadline = loop.time() + self.timeout
                while True:
                    try:
                        chunk = await asyncio.wait_for(anext(chunks),
                                                       max(deadline - loop.time(), 0))
                    except StopAsyncIteration:
                        return
                    except TimeoutError:
                        message = f"edge did not finish within {self.timeout:g} s"
                        raise EngineTimeout(message, self.name) from None
                    yield chunk["data"] if chunk["type"] == "audio" else _boundary(chunk)
        finally:
            await chunks.aclose()

    # ------------------------------------------------------------ helpers

    async def _usable_voice(self, voice: Voice, prosody: Prosody) -> str:
        """The edge voice for ``voice``, after the checks that make a request pointless."""
        name = self.voice_name(voice)
        if not name:
            raise EngineRejected(f"voice {voice.id!r} has no edge voice", self.name)
        if problems := prosody.problems():
            raise EngineRejected("edge cannot use this prosody: " + "; ".join(problems), self.name)
        if await self._is_unknown(name):
            raise EngineRejected(f"edge has no voice {name!r}; it may have been retired"
                                 " (replace it in the voices/ file)", self.name)
        return name

    async def _is_unknown(self, name: str) -> bool:
        """Is ``name`` missing from Edge's voice list? Unknown (False) while the list cannot
        be fetched: then the request itself finds out. The list is fetched once, and again
        after a failed fetch only when ``VOICE_LIST_RETRY`` seconds have passed."""
        if self._voices is None and self._clock() >= self._voices_retry_at:
            try:
                listed = await asyncio.wait_for(self._list_voices(proxy=self._proxy),
                                                self.timeout)
                self._voices = frozenset(str(entry["ShortName"]) for entry in listed)
            except (TimeoutError, aiohttp.ClientError, OSError, ValueError, KeyError,
                    TypeError, *_EDGE_ERRORS) as exc:
                log.info("edge: voice list unavailable (%s); checking voices later", exc)
                self._voices_retry_at = self._clock() + VOICE_LIST_RETRY
        return self._voices is not None and name not in self._voices

    def _check_breaker(self) -> None:
        if not self.breaker.allow():
            raise EngineUnavailable(
                f"edge is resting after repeated failures; next try in"
                f" {self.breaker.retry_after():.0f} s",
                self.name,
            )

    def _handshake_error(self, exc: aiohttp.WSServerHandshakeError) -> EngineError:
        if exc.status in TRANSIENT_STATUSES:
            return EngineUnavailable(f"edge answered HTTP {exc.status}", self.name)
        if exc.status == 403:
            # The client already corrected its clock and retried once: Microsoft refuses us.
            return EngineUnavailable("edge refused the connection (HTTP 403)", self.name)
        return EngineRejected(f"edge refused the request (HTTP {exc.status})", self.name)


def _boundary(chunk: dict[str, Any]) -> Boundary:
    kind = "word" if chunk["type"] == "WordBoundary" else "sentence"
    return Boundary(kind=kind, text=str(chunk.get("text", "")),
                    offset_ms=float(chunk["offset"]) / TICKS_PER_MS,
                    duration_ms=float(chunk["duration"]) / TICKS_PER_MS)
