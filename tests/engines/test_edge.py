"""The edge engine, driving the real edge-tts client against the fake Edge server."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncGenerator, AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any, TypeVar

import pytest

from reader.audio import probe_mp3
from reader.engines import edge as edge_module
from reader.engines.breaker import CircuitBreaker, State
from reader.engines.edge import EdgeEngine, StreamDiverged, _PassedOn
from reader.errors import BadAudio, EngineRejected, EngineTimeout, EngineUnavailable
from reader.testing.fake_edge import FakeEdgeServer, Fault, patch_edge_tts
from reader.types import Boundary, Prosody, Voice

T = TypeVar("T")
XIAOXIAO = Voice("xiaoxiao", "晓晓", "zh-CN", {"edge": "zh-CN-XiaoxiaoNeural", "espeak": "cmn"})
SENTENCE = "重庆欢迎您，智能产业博览会今天开幕。"


def run(test: Callable[[], Awaitable[T]]) -> T:
    return asyncio.run(test())  # type: ignore[arg-type]


class Sleeps:
    """Records backoff sleeps instead of sleeping."""

    def __init__(self) -> None:
        self.calls: list[float] = []

    async def __call__(self, seconds: float) -> None:
        self.calls.append(seconds)


@asynccontextmanager
async def edge(**options: Any) -> AsyncIterator[tuple[FakeEdgeServer, EdgeEngine, Sleeps]]:
    sleeps = Sleeps()
    async with FakeEdgeServer() as server:
        with patch_edge_tts(server):
            options.setdefault("sleep", sleeps)
            options.setdefault("jitter", lambda: 1.0)
            yield server, EdgeEngine(**options), sleeps


def test_speaks_with_word_boundaries_and_prosody() -> None:
    async def test() -> None:
        async with edge() as (server, engine, _):
            audio = await engine.synthesize(SENTENCE, XIAOXIAO, Prosody(rate=20, pitch=-5))
            assert (audio.engine, audio.voice) == ("edge", "zh-CN-XiaoxiaoNeural")
            info = probe_mp3(audio.data)
            assert (info.sample_rate, info.channels, info.bitrate_kbps) == (24000, 1, 48)
            assert abs(info.duration_ms - audio.duration_ms) < 30
            words = [b for b in audio.boundaries if b.kind == "word"]
            assert len(words) >= 3
            assert [b.offset_ms for b in words] == sorted(b.offset_ms for b in words)
            (request,) = server.stats.requests
            assert (request.rate, request.pitch) == ("+20%", "-5Hz")
            assert server.stats.count(SENTENCE, "zh-CN-XiaoxiaoNeural") == 1

    run(test)


@pytest.mark.parametrize(
    "fault",
    [Fault.HTTP_429, Fault.HTTP_503, Fault.NO_AUDIO, Fault.DROP_MID_STREAM, Fault.CUT_SHORT,
     Fault.MALFORMED_HEADER_LENGTH, Fault.MALFORMED_TEXT_PATH, Fault.MALFORMED_HEADER_LINE],
)
def test_transient_failures_are_retried_then_succeed(fault: Fault) -> None:
    async def test() -> None:
        async with edge() as (server, engine, sleeps):
            whole = server.audio_source(SENTENCE, "zh-CN-XiaoxiaoNeural")
            server.faults.push(fault, times=2)
            audio = await engine.synthesize(SENTENCE, XIAOXIAO, Prosody())
            assert audio.data == whole  # the whole clip, not a part
            assert len(sleeps.calls) == 2
            assert engine.breaker.state is State.CLOSED

    run(test)


def test_skewed_clock_403_is_handled_by_the_client() -> None:
    async def test() -> None:
        async with edge() as (server, engine, sleeps):
            server.faults.push(Fault.SKEWED_403)
            await engine.synthesize(SENTENCE, XIAOXIAO, Prosody())
            assert sleeps.calls == []  # the client's own retry, not ours

    run(test)


def test_backoff_is_exponential_capped_and_jittered() -> None:
    engine = EdgeEngine(backoff_base=0.5, backoff_cap=3.0, jitter=lambda: 1.0)
    assert [engine.backoff(n) for n in range(5)] == [0.5, 1.0, 2.0, 3.0, 3.0]
    half = EdgeEngine(backoff_base=0.5, backoff_cap=3.0, jitter=lambda: 0.5)
    assert half.backoff(2) == 1.0


@pytest.mark.parametrize("fault", [Fault.HTTP_403, Fault.HTTP_429, Fault.CUT_SHORT])
def test_persistent_failure_gives_up_after_the_retries(fault: Fault) -> None:
    async def test() -> None:
        async with edge(retries=2, breaker=CircuitBreaker(threshold=10)) as (server, engine, _):
            server.faults.always(fault)
            expected = BadAudio if fault is Fault.CUT_SHORT else EngineUnavailable
            with pytest.raises(expected) as caught:
                await engine.synthesize(SENTENCE, XIAOXIAO, Prosody())
            assert caught.value.engine == "edge"
            assert "cut short" in str(caught.value) or "HTTP" in str(caught.value)
            # 3 attempts (403 is retried once more by the client itself on each).
            assert server.stats.connections == (6 if fault is Fault.HTTP_403 else 3)

    run(test)


def test_cut_short_audio_is_never_returned() -> None:
    async def test() -> None:
        async with edge(retries=0) as (server, engine, _):
            server.faults.push(Fault.CUT_SHORT)
            with pytest.raises(BadAudio, match="cut short"):
                await engine.synthesize(SENTENCE, XIAOXIAO, Prosody())

    run(test)


def test_deadline_covers_the_whole_request_and_is_not_retried() -> None:
    async def test() -> None:
        async with edge(timeout=0.5) as (server, engine, sleeps):
            server.faults.push(Fault.SLOW_FIRST_BYTE)
            started = asyncio.get_running_loop().time()
            with pytest.raises(EngineTimeout, match="within 0.5 s"):
                await engine.synthesize(SENTENCE, XIAOXIAO, Prosody())
            assert asyncio.get_running_loop().time() - started < 3
            assert sleeps.calls == [] and server.stats.connections == 1

    run(test)


def test_unknown_voice_is_permanent_and_not_retried() -> None:
    async def test() -> None:
        async with edge() as (server, engine, sleeps):
            ghost = Voice("ghost", "ghost", "zh-CN", {"edge": "zh-CN-GhostNeural", "espeak": "cmn"})
            with pytest.raises(EngineRejected, match="no voice 'zh-CN-GhostNeural'"):
                await engine.synthesize(SENTENCE, ghost, Prosody())
            assert server.stats.connections == 0 and sleeps.calls == []
            assert engine.breaker.state is State.CLOSED

    run(test)


def test_preset_without_an_edge_voice_is_rejected() -> None:
    async def test() -> None:
        async with edge() as (_, engine, _sleeps):
            offline = Voice("offline", "offline", "zh-CN", {"espeak": "cmn"})
            with pytest.raises(EngineRejected, match="no edge voice"):
                await engine.synthesize(SENTENCE, offline, Prosody())

    run(test)


def test_circuit_breaker_stops_calling_during_an_outage() -> None:
    async def test() -> None:
        breaker = CircuitBreaker(threshold=3, cooldown=60)
        async with edge(retries=0, breaker=breaker) as (server, engine, _):
            server.faults.always(Fault.HTTP_503)
            for _ in range(3):
                with pytest.raises(EngineUnavailable):
                    await engine.synthesize(SENTENCE, XIAOXIAO, Prosody())
            assert breaker.state is State.OPEN
            before = server.stats.connections
            for _ in range(20):
                with pytest.raises(EngineUnavailable, match="resting"):
                    await engine.synthesize(SENTENCE, XIAOXIAO, Prosody())
            assert server.stats.connections == before  # an outage costs nothing more

    run(test)


def test_concurrent_connections_are_capped() -> None:
    async def test() -> None:
        async with edge(connections=2) as (server, engine, _):
            server.speed = 10.0  # each clip takes a while to stream
            active = peak = 0
            real = engine._communicate

            class Counting:
                def __init__(self, *args: Any, **kwargs: Any) -> None:
                    self._inner = real(*args, **kwargs)

                async def stream(self) -> AsyncIterator[Any]:
                    nonlocal active, peak
                    active += 1
                    peak = max(peak, active)
                    try:
                        async for chunk in self._inner.stream():
                            yield chunk
                    finally:
                        active -= 1

            engine._communicate = Counting
            texts = [f"第{n}句话在这里，说得清清楚楚。" for n in range(6)]
            await asyncio.gather(*(engine.synthesize(t, XIAOXIAO, Prosody()) for t in texts))
            assert peak == 2 and server.stats.connections == 6

    run(test)


def test_bad_prosody_strings_are_rejected_not_retried() -> None:
    async def test() -> None:
        async with edge() as (_, engine, sleeps):
            with pytest.raises(EngineRejected):
                await engine.synthesize(SENTENCE, XIAOXIAO, Prosody(rate=10**6))
            assert sleeps.calls == []

    run(test)


def test_stream_passes_audio_on_as_it_arrives() -> None:
    async def test() -> None:
        async with edge() as (server, engine, _):
            server.first_byte_delay = 0.2
            server.speed = 4.0  # a 4 s clip streams over about a second
            loop = asyncio.get_running_loop()
            started = loop.time()
            arrivals: list[float] = []
            chunks: list[bytes] = []
            words = []
            async for item in engine.stream(SENTENCE, XIAOXIAO, Prosody()):
                if isinstance(item, bytes):
                    arrivals.append(loop.time() - started)
                    chunks.append(item)
                else:
                    words.append(item)
            assert len(chunks) > 1 and len(words) >= 3
            assert arrivals[0] < arrivals[-1] - 0.3  # the first bytes did not wait for the rest
            whole = await engine.synthesize(SENTENCE, XIAOXIAO, Prosody())
            assert b"".join(chunks) == whole.data

    run(test)


def test_stream_times_out_and_counts_a_failure() -> None:
    async def test() -> None:
        breaker = CircuitBreaker(threshold=1, cooldown=60)
        async with edge(timeout=0.3, breaker=breaker) as (server, engine, _):
            server.faults.push(Fault.SLOW_FIRST_BYTE)
            with pytest.raises(EngineTimeout):
                async for _chunk in engine.stream(SENTENCE, XIAOXIAO, Prosody()):
                    pass
            assert breaker.state is State.OPEN

    run(test)


def test_proxy_and_settings_reach_the_client() -> None:
    seen: dict[str, Any] = {}

    class Recording:
        def __init__(self, text: str, voice: str, **kwargs: Any) -> None:
            seen.update(kwargs, text=text, voice=voice)

        async def stream(self) -> AsyncIterator[Any]:
            raise OSError("no network here")
            yield  # pragma: no cover - makes this an async generator

    async def no_voices(**kwargs: Any) -> list[Any]:
        raise OSError("no network here")

    async def test() -> None:
        engine = EdgeEngine(communicate=Recording, proxy="http://proxy.example:3128", retries=0,
                            list_voices=no_voices)
        with pytest.raises(EngineUnavailable, match="no network here"):
            await engine.synthesize(SENTENCE, XIAOXIAO, Prosody(volume=-10))
        assert seen["proxy"] == "http://proxy.example:3128"
        assert (seen["voice"], seen["volume"], seen["boundary"]) == (
            "zh-CN-XiaoxiaoNeural", "-10%", "WordBoundary")

    run(test)


def test_stream_retries_while_nothing_has_been_passed_on() -> None:
    async def test() -> None:
        async with edge() as (server, engine, sleeps):
            server.faults.push(Fault.HTTP_503)
            server.faults.push(Fault.NO_AUDIO)
            items = [item async for item in engine.stream(SENTENCE, XIAOXIAO, Prosody())]
            assert any(isinstance(item, bytes) for item in items)
            assert len(sleeps.calls) == 2 and server.stats.connections == 3

    run(test)


async def _streamed(engine: EdgeEngine, server: FakeEdgeServer) -> Heard:
    """Stream SENTENCE, noting how many connections the server had seen at each audio chunk."""
    heard = Heard()
    async for item in engine.stream(SENTENCE, XIAOXIAO, Prosody()):
        if isinstance(item, Boundary):
            heard.boundaries.append(item)
        else:
            heard.audio += item
            heard.connections_at_chunk.append(server.stats.connections)
    return heard


@dataclass
class Heard:
    audio: bytes = b""
    boundaries: list[Boundary] = field(default_factory=list)
    connections_at_chunk: list[int] = field(default_factory=list)


def test_a_stream_broken_after_audio_went_out_is_continued_by_an_identical_retry() -> None:
    async def test() -> None:
        async with edge() as (server, engine, sleeps):
            whole = await engine.synthesize(SENTENCE, XIAOXIAO, Prosody())
            server.stats.reset()
            server.faults.push(Fault.DROP_MID_STREAM)  # the first attempt only
            heard = await _streamed(engine, server)
            assert 1 in heard.connections_at_chunk  # audio went out before the break...
            assert 2 in heard.connections_at_chunk  # ...and the retry's went on after it
            assert heard.audio == whole.data  # byte for byte, nothing twice, nothing missing
            assert heard.boundaries == list(whole.boundaries)  # no word reported twice
            assert len(sleeps.calls) == 1 and server.stats.connections == 2
            assert [r.fault for r in server.stats.requests] == [Fault.DROP_MID_STREAM, None]
            assert engine.breaker.state is State.CLOSED

    run(test)


def test_a_retry_that_differs_from_what_went_out_ends_the_stream() -> None:
    async def test() -> None:
        async with edge() as (server, engine, sleeps):
            whole = server.audio_source(SENTENCE, "zh-CN-XiaoxiaoNeural")
            server.faults.push(Fault.DROP_MID_STREAM)
            server.faults.push(Fault.ANOTHER_TAKE)
            got = b""
            with pytest.raises(StreamDiverged, match="differs from the audio already passed"):
                async for item in engine.stream(SENTENCE, XIAOXIAO, Prosody()):
                    if isinstance(item, bytes):
                        got += item
            assert 0 < len(got) < len(whole) and got == whole[: len(got)]  # only the first take
            assert len(sleeps.calls) == 1 and server.stats.connections == 2  # no third take

    run(test)


def test_without_retries_a_stream_broken_after_audio_went_out_stays_cut() -> None:
    async def test() -> None:
        async with edge(retries=0) as (server, engine, sleeps):
            server.faults.push(Fault.DROP_MID_STREAM)
            with pytest.raises(BadAudio, match="cut short"):
                await _streamed(engine, server)
            assert sleeps.calls == [] and server.stats.connections == 1

    run(test)


async def _attempt(*items: bytes | Boundary) -> AsyncGenerator[bytes | Boundary, None]:
    for item in items:
        yield item


def _word(text: str, offset_ms: float) -> Boundary:
    return Boundary("word", text, offset_ms, 100.0)


def test_passed_on_continues_whatever_the_chunking_and_refuses_any_difference() -> None:
    async def through(passed: _PassedOn, *items: bytes | Boundary) -> list[bytes | Boundary]:
        return [item async for item in passed.beyond(_attempt(*items))]

    async def test() -> None:
        passed = _PassedOn()
        first = await through(passed, _word("重庆", 0), b"abcd", _word("欢迎", 100), b"ef")
        assert first == [_word("重庆", 0), b"abcd", _word("欢迎", 100), b"ef"]
        # The retry chunks its audio differently: only what lies past "abcdef" is new.
        again = await through(passed, _word("重庆", 0), b"ab", _word("欢迎", 100), b"cdefg",
                              _word("您", 200), b"hi")
        assert again == [b"g", _word("您", 200), b"hi"]
        assert bytes(passed.audio) == b"abcdefghi"
        for retry in [(b"abcdefgX",), (b"abcdefgh",), (_word("重庆", 1), b"abcdefghij")]:
            with pytest.raises(StreamDiverged):
                await through(passed, *retry)
        assert bytes(passed.audio) == b"abcdefghi"  # a refused retry added nothing

    run(test)


@pytest.mark.parametrize("fault", [Fault.SILENT, Fault.SLOW_FIRST_BYTE])
def test_a_silent_edge_fails_at_the_first_byte_deadline_once_and_trips_the_breaker(
    fault: Fault,
) -> None:
    async def test() -> None:
        breaker = CircuitBreaker(threshold=10, cooldown=60)
        # The whole request may take an hour: only the first-byte deadline can end this one.
        async with edge(timeout=3600, first_byte_timeout=0.2, retries=2, breaker=breaker) as (
                server, engine, sleeps):
            server.slow_first_byte_delay = 3600
            server.faults.always(fault)
            with pytest.raises(EngineTimeout, match="no audio within 0.2 s"):
                await _streamed(engine, server)
            assert server.stats.count() == 1 and sleeps.calls == []  # not retried
            assert breaker.state is State.OPEN  # counted like a timeout: at once
            if fault is Fault.SILENT:  # (a slow server only notices when it next sends)
                assert await asyncio.to_thread(server.stats.wait, lambda s: s.hung_up == 1)

    run(test)


def test_the_first_byte_deadline_does_not_cut_a_stream_that_has_started() -> None:
    async def test() -> None:
        async with edge(timeout=3600, first_byte_timeout=0.1) as (server, engine, _):
            server.speed = 8.0  # the rest of the clip takes a few times the first-byte deadline
            heard = await _streamed(engine, server)
            assert heard.audio == server.audio_source(SENTENCE, "zh-CN-XiaoxiaoNeural")
            assert server.stats.connections == 1

    run(test)


def test_the_voice_list_waits_no_longer_than_a_first_byte(monkeypatch: pytest.MonkeyPatch) -> None:
    async def hang(**kwargs: Any) -> list[Any]:
        await asyncio.sleep(3600)
        return []

    async def test() -> None:
        breaker = CircuitBreaker(threshold=3, cooldown=60)
        async with edge(timeout=3600, first_byte_timeout=0.1, list_voices=hang,
                        breaker=breaker) as (server, engine, _):
            with pytest.raises(EngineUnavailable, match="resting"):
                await _streamed(engine, server)
            assert server.stats.connections == 0 and breaker.state is State.OPEN

    monkeypatch.setattr(edge_module, "VOICE_LIST_TIMEOUT", 3600.0)
    run(test)


@pytest.mark.parametrize("fault", [Fault.CUT_SHORT, Fault.DROP_MID_STREAM])
@pytest.mark.parametrize("fraction", [0.5, 0.7, 0.9])
def test_clips_cut_short_are_caught_however_much_arrived(fault: Fault, fraction: float) -> None:
    async def test() -> None:
        async with edge(retries=0) as (server, engine, _):
            server.partial_fraction = fraction
            server.faults.push(fault)
            long = "重庆愿同各方一道，共享人工智能时代新机遇，携手开辟产业发展新赛道。"
            with pytest.raises(BadAudio, match="cut short"):
                await engine.synthesize(long, XIAOXIAO, Prosody())

    run(test)


def test_the_breaker_hears_once_per_request_not_per_attempt() -> None:
    async def test() -> None:
        breaker = CircuitBreaker(threshold=2, cooldown=60)
        async with edge(retries=2, breaker=breaker) as (server, engine, _):
            server.faults.push(Fault.HTTP_503, times=3)  # one request: three failed attempts
            with pytest.raises(EngineUnavailable):
                await engine.synthesize(SENTENCE, XIAOXIAO, Prosody())
            assert breaker.state is State.CLOSED  # one failed request, not three
            await engine.synthesize(SENTENCE, XIAOXIAO, Prosody())

    run(test)


def test_a_wrong_endpoint_opens_the_breaker() -> None:
    async def test() -> None:
        breaker = CircuitBreaker(threshold=2, cooldown=60)
        async with edge(retries=0, breaker=breaker) as (server, engine, _):
            real = engine._communicate

            def moved(*args: Any, **kwargs: Any) -> Any:
                import edge_tts.communicate as module

                module.WSS_URL = server.wss_url.replace("/edge/v1", "/nowhere")
                return real(*args, **kwargs)

            engine._communicate = moved
            for _ in range(2):
                with pytest.raises(EngineUnavailable, match="HTTP 404"):
                    await engine.synthesize(SENTENCE, XIAOXIAO, Prosody())
            assert breaker.state is State.OPEN

    run(test)


def test_the_voice_list_is_fetched_once_for_many_callers() -> None:
    async def test() -> None:
        async with edge() as (server, engine, _):
            texts = [f"第{n}位读者点了播放。" for n in range(20)]
            await asyncio.gather(*(engine.synthesize(t, XIAOXIAO, Prosody()) for t in texts))
            assert server.stats.voice_list_requests == 1

    run(test)


def test_a_hanging_service_costs_one_timeout_not_one_per_sentence() -> None:
    async def hang(**kwargs: Any) -> list[Any]:
        await asyncio.sleep(3600)
        return []

    async def test() -> None:
        breaker = CircuitBreaker(threshold=3, cooldown=60)
        async with edge(timeout=0.3, list_voices=hang, breaker=breaker) as (server, engine, _):
            server.faults.always(Fault.SLOW_FIRST_BYTE)
            loop = asyncio.get_running_loop()
            started = loop.time()
            for _ in range(5):
                with pytest.raises(EngineUnavailable):
                    await engine.synthesize(SENTENCE, XIAOXIAO, Prosody())
            assert loop.time() - started < 1.0  # one 0.3 s timeout, then the breaker
            assert server.stats.connections == 0  # the voice list timed out: nobody connected
            assert breaker.state is State.OPEN

    run(test)
