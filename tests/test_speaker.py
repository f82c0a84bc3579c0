"""Speech through the chain: fallback in one place, the cache, single-flight, failures."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any, TypeVar

import pytest

from reader.audio import probe_mp3
from reader.cache import DiskCache
from reader.config import data_dir
from reader.engines.base import Engine
from reader.engines.breaker import CircuitBreaker, State
from reader.engines.edge import EdgeEngine, StreamDiverged
from reader.engines.espeak import EspeakEngine
from reader.engines.function import FunctionEngine
from reader.errors import (
    BadAudio,
    BadProsody,
    EngineError,
    EngineTimeout,
    EngineUnavailable,
    NoEngineAvailable,
    NothingToSay,
)
from reader.pipeline import Speaker, SpeechObserver, TextPipeline
from reader.testing.fake_edge import FakeEdgeServer, Fault, patch_edge_tts
from reader.types import Audio, Prosody, Segment, Voice
from reader.voices import load_voices

T = TypeVar("T")
VOICES = load_voices(data_dir("voices"), "xiaoxiao")


def run(test: Callable[[], Awaitable[T]]) -> T:
    return asyncio.run(test())  # type: ignore[arg-type]


def segment(pipeline: TextPipeline, text: str) -> Segment:
    return pipeline.segments(pipeline.from_plain_text(text))[0]


async def _no_sleep(seconds: float) -> None:
    return None


@asynccontextmanager
async def chain(pipeline: TextPipeline, root: Path, *extra: Engine, **edge_options: Any,
                ) -> AsyncIterator[tuple[FakeEdgeServer, Speaker]]:
    """Edge (the real client, against the fake server; ``edge_options`` override its
    defaults: no retries, no backoff, a breaker that never opens) then ``extra`` or espeak."""
    async with FakeEdgeServer() as server:
        with patch_edge_tts(server):
            options: dict[str, Any] = {
                "retries": 0, "sleep": _no_sleep,
                "breaker": CircuitBreaker(threshold=100, cooldown=0), **edge_options}
            edge = EdgeEngine(**options)
            engines: list[Engine] = [edge, *extra] if extra else [edge, EspeakEngine()]
            speaker = Speaker(pipeline, engines, DiskCache(root), VOICES)
            try:
                yield server, speaker
            finally:
                await speaker.aclose()


def test_edge_speaks_first_and_the_second_request_is_a_cache_hit(
    pipeline: TextPipeline, tmp_path: Path
) -> None:
    async def test() -> None:
        async with chain(pipeline, tmp_path) as (server, speaker):
            seg = segment(pipeline, "重庆欢迎您，智能产业博览会今天开幕。")
            first = await speaker.speak(seg)
            second = await speaker.speak(seg)
            assert (first.engine, first.cached, first.fallback) == ("edge", False, False)
            assert (second.engine, second.cached) == ("edge", True)
            assert second.audio.data == first.audio.data and second.key == first.key
            assert server.stats.count() == 1

    run(test)


def test_fallback_speaks_offline_and_never_shadows_the_primary(
    pipeline: TextPipeline, tmp_path: Path
) -> None:
    async def test() -> None:
        async with chain(pipeline, tmp_path) as (server, speaker):
            seg = segment(pipeline, "重庆欢迎您，智能产业博览会今天开幕。")
            server.faults.always(Fault.HTTP_503)
            down = await speaker.speak(seg)
            assert (down.engine, down.fallback, down.audio.voice) == ("espeak", True, "cmn")
            assert probe_mp3(down.audio.data).duration_ms > 1000
            edge_key = speaker.key_for(speaker.engines[0], seg, VOICES.default, Prosody())
            assert speaker.cache.get(edge_key) is None  # nothing stored for edge
            server.faults.clear()
            back = await speaker.speak(seg)
            assert (back.engine, back.cached, back.fallback) == ("edge", False, False)

    run(test)


def test_each_engine_gets_its_own_normalisation(pipeline: TextPipeline, tmp_path: Path) -> None:
    spoken: list[str] = []

    def offline(text: str, voice: Voice, prosody: Prosody) -> Audio:
        spoken.append(text)
        raise EngineUnavailable("not today", "offline")

    async def test() -> None:
        fake = FunctionEngine(offline, name="offline")
        async with chain(pipeline, tmp_path, fake) as (server, speaker):
            seg = segment(pipeline, "2025年9月5日上午开幕。")
            server.faults.always(Fault.HTTP_503)
            with pytest.raises(NoEngineAvailable, match="edge: .*503.*; offline: not today"):
                await speaker.speak(seg)
            server.faults.clear()
            await speaker.speak(seg)
            (request,) = server.stats.requests
            assert "2025年" in request.text  # light: the neural voice reads years itself
            assert spoken == ["二〇二五年九月五日上午开幕。"]  # full: spelled out
            assert speaker.cache.stats().clips == 1  # the failure stored nothing

    run(test)


def test_nothing_is_cached_when_every_engine_fails(pipeline: TextPipeline, tmp_path: Path) -> None:
    def broken(text: str, voice: Voice, prosody: Prosody) -> Audio:
        return Audio(b"\xff\xf3" + bytes(40), 10.0, "broken", "x")  # not a whole MP3 frame

    async def test() -> None:
        async with chain(pipeline, tmp_path, FunctionEngine(broken, name="broken")) as (
                server, speaker):
            server.faults.always(Fault.CUT_SHORT)
            with pytest.raises(NoEngineAvailable) as caught:
                await speaker.speak(segment(pipeline, "重庆欢迎您，智能产业博览会今天开幕。"))
            assert caught.value.retry_after >= 1
            assert "cut short" in str(caught.value)
            assert speaker.cache.stats().clips == 0

    run(test)


def test_one_synthesis_for_a_hundred_concurrent_requests(
    pipeline: TextPipeline, tmp_path: Path
) -> None:
    async def test() -> None:
        async with chain(pipeline, tmp_path) as (server, speaker):
            server.first_byte_delay = 0.2
            seg = segment(pipeline, "一百个人同时点击播放这一句话。")
            results = await asyncio.gather(*(speaker.speak(seg) for _ in range(100)))
            assert server.stats.count() == 1
            assert len({r.audio.data for r in results}) == 1
            assert {r.engine for r in results} == {"edge"}

    run(test)


def test_a_cancelled_caller_does_not_cancel_the_others(
    pipeline: TextPipeline, tmp_path: Path
) -> None:
    async def test() -> None:
        async with chain(pipeline, tmp_path) as (server, speaker):
            server.first_byte_delay = 0.3
            seg = segment(pipeline, "有人中途离开，别人照样能听到。")
            tasks = [asyncio.create_task(speaker.speak(seg)) for _ in range(5)]
            while server.stats.connections == 0:  # wait until the synthesis is under way
                await asyncio.sleep(0.005)
            tasks[0].cancel()
            done = await asyncio.gather(*tasks[1:])
            assert {d.engine for d in done} == {"edge"} and server.stats.count() == 1

    run(test)


def test_bad_prosody_and_unspeakable_text(pipeline: TextPipeline, tmp_path: Path) -> None:
    async def test() -> None:
        async with chain(pipeline, tmp_path) as (server, speaker):
            seg = segment(pipeline, "重庆欢迎您。")
            with pytest.raises(BadProsody, match="rate must be between -50% and \\+100%"):
                await speaker.speak(seg, prosody=Prosody(rate=150))
            blank = Segment(0, seg.kind, "……", "……", 0, 0, 2)
            with pytest.raises(NothingToSay, match="nothing to say"):
                await speaker.speak(blank)
            assert server.stats.connections == 0 and speaker.cache.stats().clips == 0

    run(test)


def test_listeners_get_identical_bytes_from_the_start(
    pipeline: TextPipeline, tmp_path: Path
) -> None:
    async def test() -> None:
        async with chain(pipeline, tmp_path) as (server, speaker):
            server.first_byte_delay = 0.05
            server.speed = 8.0
            seg = segment(pipeline, "第一位听众和后来的听众听到的是同一段声音。")
            early = speaker.stream(seg)
            first_chunks: list[bytes] = []
            async for chunk in early.listen():
                first_chunks.append(chunk)
                if len(first_chunks) == 1:
                    late = speaker.stream(seg)  # joins while the clip is being made
                    assert late is early
                    late_bytes = asyncio.create_task(_collect(late))
            assert b"".join(first_chunks) == await late_bytes
            assert server.stats.count() == 1
            assert (await early.result()).engine == "edge"

    run(test)


async def _collect(broadcast: object) -> bytes:
    from reader.broadcast import Broadcast

    assert isinstance(broadcast, Broadcast)
    return b"".join([chunk async for chunk in broadcast.listen()])


def test_a_clip_cut_short_under_a_listener_fails_it_and_is_not_cached(
    pipeline: TextPipeline, tmp_path: Path
) -> None:
    async def test() -> None:
        async with chain(pipeline, tmp_path) as (server, speaker):
            server.faults.push(Fault.DROP_MID_STREAM)
            seg = segment(pipeline, "这句话在传输途中被切断了一半。")
            heard = b""
            with pytest.raises(BadAudio, match="cut short"):
                async for chunk in speaker.stream(seg).listen():
                    heard += chunk
            assert heard  # part of it went out before the cut
            assert speaker.cached(seg, VOICES.default, Prosody()) is None
            again = await speaker.speak(seg)  # the next request starts afresh
            assert again.engine == "edge" and not again.cached

    run(test)


def test_a_clip_cut_short_with_nobody_listening_is_retried_quietly(
    pipeline: TextPipeline, tmp_path: Path
) -> None:
    async def test() -> None:
        async with chain(pipeline, tmp_path) as (server, speaker):
            server.faults.push(Fault.CUT_SHORT)
            spoken = await speaker.speak(segment(pipeline, "预先生成时被截断的句子会重新合成。"))
            assert spoken.engine == "edge" and server.stats.connections == 2

    run(test)


def test_heard_says_which_clip_is_cached_and_what_its_engine_was_given(
    pipeline: TextPipeline, tmp_path: Path
) -> None:
    async def test() -> None:
        async with chain(pipeline, tmp_path) as (server, speaker):
            seg = segment(pipeline, "首班车今晚10点发车。")
            voice = VOICES.default
            assert speaker.heard(seg, voice, Prosody()) == (None, "首班车今晚10点发车。")
            server.faults.always(Fault.HTTP_503)
            await speaker.speak(seg)  # espeak, whose text is normalised in full
            found, speak = speaker.heard(seg, voice, Prosody())
            assert found is not None and found.engine == "espeak"
            assert speak == "首班车今晚十点发车。"
            server.faults.clear()
            await speaker.speak(seg)
            found, speak = speaker.heard(seg, voice, Prosody())
            assert found is not None and found.engine == "edge"
            assert speak == "首班车今晚10点发车。"

    run(test)


class Failures(SpeechObserver):
    """Records the engine failures and fallbacks the speaker reports."""

    def __init__(self) -> None:
        self.errors: list[EngineError] = []
        self.fallbacks: list[tuple[str, str]] = []

    def failed(self, engine: str, error: EngineError) -> None:
        self.errors.append(error)

    def fell_back(self, from_engine: str, to_engine: str) -> None:
        self.fallbacks.append((from_engine, to_engine))


@pytest.mark.parametrize("fault", [Fault.SILENT, Fault.SLOW_FIRST_BYTE])
def test_a_silent_edge_hands_the_sentence_to_the_next_engine_at_the_first_byte_deadline(
    pipeline: TextPipeline, tmp_path: Path, fault: Fault
) -> None:
    async def test() -> None:
        breaker = CircuitBreaker(threshold=10, cooldown=60)
        # Edge's whole-request deadline is an hour and it may retry: only the first-byte
        # deadline can hand this sentence on.
        async with chain(pipeline, tmp_path, timeout=3600, first_byte_timeout=0.2, retries=2,
                         breaker=breaker) as (server, speaker):
            server.slow_first_byte_delay = 3600
            server.faults.always(fault)
            speaker.observer = failures = Failures()
            seg = segment(pipeline, "重庆欢迎您，智能产业博览会今天开幕。")
            flight = speaker.stream(seg)
            heard = b"".join([chunk async for chunk in flight.listen()])
            spoken = await flight.result()
            assert (spoken.engine, spoken.fallback, spoken.cached) == ("espeak", True, False)
            assert heard == spoken.audio.data  # the listener heard espeak, from its first byte
            assert failures.fallbacks == [("edge", "espeak")]
            (error,) = failures.errors
            assert isinstance(error, EngineTimeout) and "no audio within 0.2 s" in str(error)
            assert server.stats.count() == 1  # edge's request was abandoned, not retried
            assert breaker.state is State.OPEN  # the next sentences do not wait for edge
            if fault is Fault.SILENT:
                assert await asyncio.to_thread(server.stats.wait, lambda s: s.hung_up == 1)

    run(test)


def test_a_stream_broken_under_a_listener_is_healed_when_the_retry_repeats_it(
    pipeline: TextPipeline, tmp_path: Path
) -> None:
    async def test() -> None:
        async with chain(pipeline, tmp_path, retries=1) as (server, speaker):
            server.faults.push(Fault.DROP_MID_STREAM)  # the first attempt only
            seg = segment(pipeline, "这句话在传输途中断了，但听众听不出来。")
            flight = speaker.stream(seg)
            heard = b"".join([chunk async for chunk in flight.listen()])
            spoken = await flight.result()
            first, retry = server.stats.requests
            assert (first.fault, retry.fault) == (Fault.DROP_MID_STREAM, None)
            uninterrupted = server.audio_source(retry.text, retry.voice)
            assert heard == uninterrupted  # byte for byte: nothing twice, nothing missing
            assert (spoken.engine, spoken.cached) == ("edge", False)
            stored = speaker.cache.get(spoken.key)
            assert stored is not None and stored.audio.data == uninterrupted  # cached whole

    run(test)


def test_a_stream_broken_under_a_listener_stays_cut_when_the_retry_differs(
    pipeline: TextPipeline, tmp_path: Path
) -> None:
    async def test() -> None:
        async with chain(pipeline, tmp_path, retries=1) as (server, speaker):
            server.faults.push(Fault.DROP_MID_STREAM)
            server.faults.push(Fault.ANOTHER_TAKE)
            seg = segment(pipeline, "这句话在传输途中断了，重试的声音却不一样。")
            heard = b""
            with pytest.raises(StreamDiverged):
                async for chunk in speaker.stream(seg).listen():
                    heard += chunk
            request = server.stats.requests[0]
            first_take = server.audio_source(request.text, request.voice)
            assert 0 < len(heard) < len(first_take) and heard == first_take[: len(heard)]
            assert speaker.cached(seg, VOICES.default, Prosody()) is None  # nothing partial
            again = await speaker.speak(seg)  # the next request starts afresh
            assert (again.engine, again.cached, again.audio.data) == ("edge", False, first_take)

    run(test)


class EagerNoted(EspeakEngine):
    """espeak, noting whether each stream was asked for eagerly."""

    def __init__(self) -> None:
        super().__init__()
        self.asked: list[bool] = []

    async def stream(self, text: str, voice: Voice, prosody: Prosody, *,
                     eager: bool = True) -> AsyncIterator[Any]:
        self.asked.append(eager)
        async for item in super().stream(text, voice, prosody, eager=eager):
            yield item


def test_a_listener_streams_eagerly_and_a_clip_made_ahead_does_not(
        pipeline: TextPipeline, tmp_path: Path) -> None:
    engine = EagerNoted()

    async def test() -> None:
        speaker = Speaker(pipeline, [engine], DiskCache(tmp_path), VOICES)
        try:
            await speaker.speak(segment(pipeline, "批量生成的句子。"))  # a batch, an export
            await speaker.speak(segment(pipeline, "预热的句子。"), eager=True)  # a warm start
            await speaker.stream(segment(pipeline, "听众点击的句子。")).result()
        finally:
            await speaker.aclose()

    run(test)
    assert engine.asked == [False, True, True]
