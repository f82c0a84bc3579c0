"""The fake Edge server, driven by the real edge_tts client (7.3.1) over loopback."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
from collections import Counter
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

import aiohttp
import edge_tts
import edge_tts.communicate
import edge_tts.voices
import pytest
from edge_tts.exceptions import (
    NoAudioReceived,
    UnexpectedResponse,
    UnknownResponse,
    WebSocketError,
)

from reader.testing.fake_edge import (
    MP3_FRAME_BYTES,
    TICKS_PER_SECOND,
    Endpoints,
    FakeEdgeServer,
    Fault,
    FaultPlan,
    estimate_duration,
    mp3_duration,
    patch_edge_tts,
    silence_source,
)

XIAOXIAO = "zh-CN-XiaoxiaoNeural"
SENTENCE = "重庆是一座山城，也是一座桥都。"  # 13 characters: about 2.9 s
FOUR_SECONDS = "今天的天气非常好，我们一起去公园散步吧。"  # 18 characters: about 4 s


@dataclass
class Heard:
    """What the client yielded, with arrival times relative to the start of the request."""

    audio: bytes = b""
    boundaries: list[dict[str, Any]] = field(default_factory=list)
    first_audio_at: float | None = None
    finished_at: float = 0.0

    @property
    def seconds(self) -> float:
        return mp3_duration(self.audio)


async def speak(text: str, voice: str = XIAOXIAO, **options: Any) -> Heard:
    heard = Heard()
    started = time.monotonic()
    async for chunk in edge_tts.Communicate(text, voice, **options).stream():
        if chunk["type"] == "audio":
            heard.audio += chunk["data"]
            if heard.first_audio_at is None:
                heard.first_audio_at = time.monotonic() - started
        else:
            heard.boundaries.append(chunk)
    heard.finished_at = time.monotonic() - started
    return heard


@asynccontextmanager
async def edge(**settings: Any) -> AsyncIterator[FakeEdgeServer]:
    async with FakeEdgeServer(**settings) as server:
        with patch_edge_tts(server):
            yield server


def run(coroutine: Any) -> Any:
    return asyncio.run(coroutine)


def mp3_frame_headers(audio: bytes) -> Iterator[bytes]:
    """The 4-byte header of each frame; Edge's frames are all 144 bytes long."""
    assert len(audio) % MP3_FRAME_BYTES == 0
    for start in range(0, len(audio), MP3_FRAME_BYTES):
        yield audio[start : start + 4]


def assert_edge_format(audio: bytes) -> None:
    """MPEG-2 layer III, 48 kbit/s, 24 kHz, unpadded, mono, in every frame; no ID3, no Xing."""
    assert audio[:3] != b"ID3"
    assert b"Xing" not in audio[:MP3_FRAME_BYTES] and b"Info" not in audio[:MP3_FRAME_BYTES]
    for header in mp3_frame_headers(audio):
        assert header[0] == 0xFF and header[1] & 0xFE == 0xF2  # sync, MPEG-2, layer III
        assert header[2] >> 4 == 6  # 48 kbit/s in the MPEG-2 layer III table
        assert (header[2] >> 2) & 0b11 == 1  # 24 000 Hz in MPEG-2
        assert (header[2] >> 1) & 1 == 0  # never padded
        assert header[3] >> 6 == 0b11  # single channel


# --- Normal synthesis ---------------------------------------------------------------------------


def test_synthesis_returns_edge_format_mp3_as_long_as_the_text_takes() -> None:
    async def scenario() -> Heard:
        async with edge():
            return await speak(SENTENCE)

    heard = run(scenario())
    assert_edge_format(heard.audio)
    assert heard.seconds == pytest.approx(estimate_duration(SENTENCE), abs=0.1)


def test_audio_arrives_byte_for_byte_from_the_source() -> None:
    async def scenario() -> Heard:
        async with edge(audio_source=silence_source, chunk_bytes=1000):
            return await speak(SENTENCE)

    assert run(scenario()).audio == silence_source(SENTENCE, XIAOXIAO)


def test_word_boundaries_cover_the_clip_in_order() -> None:
    text = "Chongqing is a city of mountains and bridges."

    async def scenario() -> Heard:
        async with edge():
            return await speak(text, "en-US-AriaNeural", boundary="WordBoundary")

    heard = run(scenario())
    words = [b["text"] for b in heard.boundaries]
    assert words == ["Chongqing", "is", "a", "city", "of", "mountains", "and", "bridges"]
    assert {b["type"] for b in heard.boundaries} == {"WordBoundary"}
    offsets = [b["offset"] for b in heard.boundaries]
    assert offsets == sorted(set(offsets)) and offsets[0] == 0
    last = heard.boundaries[-1]
    end = (last["offset"] + last["duration"]) / TICKS_PER_SECOND
    assert end == pytest.approx(heard.seconds, abs=0.01)


def test_chinese_words_are_character_pairs_and_sentences_are_sentences() -> None:
    text = "你好世界。再见！"

    async def scenario() -> tuple[Heard, Heard]:
        async with edge():
            return await speak(text, boundary="WordBoundary"), await speak(text)

    words, sentences = run(scenario())
    assert [b["text"] for b in words.boundaries] == ["你好", "世界", "再见"]
    assert [b["text"] for b in sentences.boundaries] == ["你好世界。", "再见！"]
    assert {b["type"] for b in sentences.boundaries} == {"SentenceBoundary"}


def test_prosody_voice_and_escaped_text_reach_the_server() -> None:
    text = "A&B <tag> 说“你好”"

    async def scenario() -> tuple[FakeEdgeServer, Heard]:
        async with edge() as server:
            heard = await speak(
                text, "zh-CN-sichuan-YunxiNeural", rate="+25%", volume="-10%", pitch="+5Hz"
            )
            return server, heard

    server, heard = run(scenario())
    (request,) = server.stats.requests
    assert request.text == text
    assert request.voice == "zh-CN-sichuan-YunxiNeural"
    assert (
        request.voice_name
        == "Microsoft Server Speech Text to Speech Voice (zh-CN-sichuan, YunxiNeural)"
    )
    assert (request.rate, request.volume, request.pitch) == ("+25%", "-10%", "+5Hz")
    assert request.boundaries == ("SentenceBoundary",)
    assert request.output_format == "audio-24khz-48kbitrate-mono-mp3"
    assert "A&amp;B &lt;tag&gt;" in request.ssml
    assert [b["text"] for b in heard.boundaries] == [text]


def test_counts_are_exact() -> None:
    sentences = ["第一句。", "第二句。", "第三句。"]

    async def scenario() -> FakeEdgeServer:
        async with edge() as server:
            for sentence in sentences:
                await speak(sentence)
            await speak(sentences[0], "zh-CN-YunxiNeural")
            return server

    stats = run(scenario()).stats
    assert stats.syntheses == Counter(
        {(s, XIAOXIAO): 1 for s in sentences} | {(sentences[0], "zh-CN-YunxiNeural"): 1}
    )
    assert stats.count(sentences[0]) == 2
    assert stats.count(voice=XIAOXIAO) == 3
    assert stats.count() == 4
    assert (stats.connections, stats.refused) == (4, 0)


def test_voice_list_through_the_patched_url() -> None:
    async def scenario() -> tuple[FakeEdgeServer, list[dict[str, Any]]]:
        async with edge() as server:
            return server, await edge_tts.list_voices()

    server, voices = run(scenario())
    by_name = {voice["ShortName"]: voice for voice in voices}
    for name in (
        "zh-CN-XiaoxiaoNeural",
        "zh-CN-YunxiNeural",
        "zh-CN-YunjianNeural",
        "zh-CN-YunyangNeural",
        "zh-CN-sichuan-YunxiNeural",
        "zh-HK-HiuMaanNeural",
        "zh-TW-HsiaoChenNeural",
        "en-US-AriaNeural",
        "en-US-GuyNeural",
    ):
        assert name in by_name
    sichuan = by_name["zh-CN-sichuan-YunxiNeural"]
    assert sichuan["Locale"] == "zh-CN-sichuan"
    assert sichuan["Name"].endswith("(zh-CN-sichuan, YunxiNeural)")
    assert set(sichuan) == {
        "Name", "ShortName", "Gender", "Locale", "SuggestedCodec", "FriendlyName", "Status",
        "VoiceTag",
    }  # fmt: skip
    assert server.stats.voice_list_requests == 1


def test_voices_manager_finds_by_locale() -> None:
    async def scenario() -> list[dict[str, Any]]:
        async with edge():
            manager = await edge_tts.VoicesManager.create()
            return manager.find(Locale="zh-HK")

    assert [v["ShortName"] for v in run(scenario())] == [
        "zh-HK-HiuMaanNeural",
        "zh-HK-WanLungNeural",
    ]


# --- Edge's own refusals ------------------------------------------------------------------------


def test_unknown_voice_gets_no_audio() -> None:
    async def scenario() -> FakeEdgeServer:
        async with edge() as server:
            with pytest.raises(NoAudioReceived):
                await speak(SENTENCE, "zh-CN-NobodyNeural")
            return server

    (request,) = run(scenario()).stats.requests
    assert request.voice == "zh-CN-NobodyNeural"


def test_punctuation_alone_gets_no_audio() -> None:
    async def scenario() -> None:
        async with edge():
            with pytest.raises(NoAudioReceived):
                await speak("。！……")

    run(scenario())


# --- Faults at the handshake --------------------------------------------------------------------


def test_403_with_a_skewed_date_is_retried_once_and_succeeds() -> None:
    async def scenario() -> tuple[FakeEdgeServer, Heard]:
        async with edge() as server:
            server.faults.push(Fault.SKEWED_403)
            return server, await speak(SENTENCE)

    server, heard = run(scenario())
    assert heard.seconds > 2
    assert (server.stats.connections, server.stats.refused) == (2, 1)
    assert server.stats.count() == 1


def test_patch_restores_the_clock_correction_a_skewed_403_leaves() -> None:
    skew_before = edge_tts.drm.DRM.clock_skew_seconds

    async def scenario() -> float:
        async with edge() as server:
            server.faults.push(Fault.SKEWED_403)
            await speak(SENTENCE)
            return float(edge_tts.drm.DRM.clock_skew_seconds)

    skew_inside = run(scenario())
    assert skew_inside - skew_before == pytest.approx(3600, abs=2)
    assert edge_tts.drm.DRM.clock_skew_seconds == skew_before


def test_hard_403_fails_after_the_clients_one_retry() -> None:
    async def scenario() -> FakeEdgeServer:
        async with edge() as server:
            server.faults.always(Fault.HTTP_403)
            with pytest.raises(aiohttp.WSServerHandshakeError) as raised:
                await speak(SENTENCE)
            assert raised.value.status == 403
            return server

    stats = run(scenario()).stats
    assert (stats.connections, stats.refused, stats.count()) == (2, 2, 0)


@pytest.mark.parametrize(("fault", "status"), [(Fault.HTTP_429, 429), (Fault.HTTP_503, 503)])
def test_429_and_503_are_handshake_errors_without_retry(fault: Fault, status: int) -> None:
    async def scenario() -> FakeEdgeServer:
        async with edge() as server:
            server.faults.push(fault, times=2)
            for _ in range(2):
                with pytest.raises(aiohttp.WSServerHandshakeError) as raised:
                    await speak(SENTENCE)
                assert raised.value.status == status
            await speak(SENTENCE)  # the queue is spent: normal again
            return server

    stats = run(scenario()).stats
    assert (stats.connections, stats.refused, stats.count()) == (3, 2, 1)


def test_voice_list_faults() -> None:
    async def scenario() -> FakeEdgeServer:
        async with edge() as server:
            server.voice_list_faults.push(Fault.SKEWED_403)
            assert len(await edge_tts.list_voices()) > 9  # corrected its clock and retried
            server.voice_list_faults.push(Fault.HTTP_503)
            with pytest.raises(aiohttp.ClientResponseError) as raised:
                await edge_tts.list_voices()
            assert raised.value.status == 503
            return server

    assert run(scenario()).stats.voice_list_requests == 3


# --- Faults in the stream -----------------------------------------------------------------------


@pytest.mark.parametrize("fault", [Fault.DROP_MID_STREAM, Fault.CUT_SHORT])
def test_partial_audio_ends_quietly(fault: Fault) -> None:
    async def scenario() -> tuple[FakeEdgeServer, Heard, Heard]:
        async with edge() as server:
            full = await speak(SENTENCE)
            server.faults.push(fault)
            return server, full, await speak(SENTENCE)

    server, full, partial = run(scenario())
    assert 0 < len(partial.audio) < len(full.audio)
    assert partial.audio == full.audio[: len(partial.audio)]
    assert_edge_format(partial.audio)
    assert server.stats.requests[-1].fault is fault


def test_no_audio_fault() -> None:
    async def scenario() -> None:
        async with edge() as server:
            server.faults.push(Fault.NO_AUDIO)
            with pytest.raises(NoAudioReceived):
                await speak(SENTENCE)

    run(scenario())


@pytest.mark.parametrize(
    ("fault", "error"),
    [
        (Fault.MALFORMED_HEADER_LENGTH, UnexpectedResponse),
        (Fault.MALFORMED_BINARY_PATH, UnexpectedResponse),
        (Fault.MALFORMED_TEXT_PATH, UnknownResponse),
        (Fault.MALFORMED_HEADER_LINE, ValueError),
        (Fault.MALFORMED_UTF8, WebSocketError),
    ],
)
def test_malformed_frames_make_the_client_raise(fault: Fault, error: type[Exception]) -> None:
    async def scenario() -> None:
        async with edge() as server:
            server.faults.push(fault)
            with pytest.raises(error):
                await speak(SENTENCE)

    run(scenario())


def test_slow_first_byte_outlasts_a_deadline_and_the_server_still_stops_promptly() -> None:
    async def scenario() -> float:
        async with edge() as server:
            server.faults.push(Fault.SLOW_FIRST_BYTE)
            with pytest.raises(TimeoutError):
                await asyncio.wait_for(speak(SENTENCE), timeout=0.5)
            closing = time.monotonic()
        return time.monotonic() - closing

    assert run(scenario()) < 5  # not the 30 s the handler was waiting for


def test_a_silent_server_sends_nothing_and_counts_the_client_hanging_up() -> None:
    async def scenario() -> FakeEdgeServer:
        async with edge() as server:
            server.faults.push(Fault.SILENT)
            heard = Heard()

            async def listen() -> None:
                async for chunk in edge_tts.Communicate(SENTENCE, XIAOXIAO).stream():
                    heard.boundaries.append(chunk)  # nothing should ever come

            with pytest.raises(TimeoutError):
                await asyncio.wait_for(listen(), timeout=0.3)  # the client would wait forever
            assert heard.boundaries == []
            assert await asyncio.to_thread(server.stats.wait, lambda s: s.hung_up == 1)
            assert server.stats.completed == Counter()
            assert (await speak(SENTENCE)).audio  # the next connection is served normally
            return server

    stats = run(scenario()).stats
    assert (stats.count(), stats.hung_up) == (2, 1)
    assert [r.fault for r in stats.requests] == [Fault.SILENT, None]


def test_another_take_is_the_same_length_and_format_but_not_the_same_bytes() -> None:
    async def scenario() -> tuple[Heard, Heard, Heard]:
        async with edge() as server:
            first = await speak(SENTENCE)
            server.faults.push(Fault.ANOTHER_TAKE)
            return first, await speak(SENTENCE), await speak(SENTENCE)

    first, other, again = run(scenario())
    assert again.audio == first.audio  # normally deterministic
    assert len(other.audio) == len(first.audio) and other.audio != first.audio
    assert other.audio[:2] == first.audio[:2] and other.audio[2] != first.audio[2]
    assert_edge_format(other.audio)
    assert other.boundaries == first.boundaries


def test_text_rules_pick_out_one_sentence() -> None:
    async def scenario() -> FakeEdgeServer:
        async with edge() as server:
            server.faults.for_text("第二", Fault.NO_AUDIO, times=1)
            await speak("第一句。")
            with pytest.raises(NoAudioReceived):
                await speak("第二句。")
            await speak("第二句。")  # the rule was used up
            return server

    requests = run(scenario()).stats.requests
    assert [r.fault for r in requests] == [None, Fault.NO_AUDIO, None]


def test_queued_faults_are_taken_in_order_one_per_connection() -> None:
    plan = FaultPlan()
    plan.push(Fault.HTTP_429, times=2)
    plan.push(Fault.CUT_SHORT)
    assert plan.pending == (Fault.HTTP_429, Fault.CUT_SHORT)
    taken = [plan.take_for_connection() for _ in range(5)]
    assert taken == [Fault.HTTP_429, Fault.HTTP_429, Fault.CUT_SHORT, None, None]


def test_impossible_fault_placements_are_refused() -> None:
    with pytest.raises(ValueError, match="before the text is known"):
        FaultPlan().for_text("x", Fault.HTTP_429)
    with pytest.raises(ValueError, match="cannot happen here"):
        FakeEdgeServer().voice_list_faults.push(Fault.NO_AUDIO)


def test_reset_forgets_faults_and_counts() -> None:
    async def scenario() -> FakeEdgeServer:
        async with edge() as server:
            await speak(SENTENCE)
            server.faults.always(Fault.HTTP_503)
            server.reset()
            await speak(SENTENCE)
            return server

    stats = run(scenario()).stats
    assert (stats.connections, stats.count()) == (1, 1)


# --- The latency model --------------------------------------------------------------------------


def test_first_byte_delay_and_speed_are_honoured() -> None:
    async def scenario() -> Heard:
        async with edge(first_byte_delay=0.3, speed=20, chunk_bytes=MP3_FRAME_BYTES * 5):
            return await speak(FOUR_SECONDS)

    heard = run(scenario())
    assert heard.seconds == pytest.approx(4, abs=0.2)
    assert heard.first_audio_at is not None
    assert 0.28 <= heard.first_audio_at < 1.5
    streaming = heard.finished_at - heard.first_audio_at
    assert heard.seconds / 20 * 0.8 <= streaming < 1.5  # about 0.2 s


def test_latency_can_change_between_requests() -> None:
    async def scenario() -> tuple[Heard, Heard]:
        async with edge(first_byte_delay=0.4) as server:
            slow = await speak(SENTENCE)
            server.first_byte_delay = 0.0
            return slow, await speak(SENTENCE)

    slow, fast = run(scenario())
    assert slow.first_audio_at is not None and fast.first_audio_at is not None
    assert slow.first_audio_at >= 0.38
    assert fast.first_audio_at < slow.first_audio_at


# --- Running it ---------------------------------------------------------------------------------


def test_runs_in_a_thread_for_synchronous_callers() -> None:
    with FakeEdgeServer() as server, patch_edge_tts(server):
        heard = run(speak(SENTENCE))
        server.faults.push(Fault.HTTP_429)
        with pytest.raises(aiohttp.WSServerHandshakeError):
            run(speak(SENTENCE))
        assert server.stats.syntheses == Counter({(SENTENCE, XIAOXIAO): 1})
    assert heard.seconds > 2
    with pytest.raises(RuntimeError, match="not running"):
        server.wss_url  # noqa: B018 (the port is gone with the server)


def test_start_in_thread_and_stop() -> None:
    server = FakeEdgeServer().start_in_thread()
    try:
        assert server.wss_url.startswith(f"ws://127.0.0.1:{server.port}/consumer/speech/")
        assert server.wss_url.endswith("?TrustedClientToken=6A5AA1D4EAFF4E9FB37E23D68491D6F4")
    finally:
        server.stop()


def test_patch_edge_tts_sets_and_restores_urls_and_proxies(monkeypatch: pytest.MonkeyPatch) -> None:
    # A proxy that refuses everything: the client would fail if it went through it.
    monkeypatch.setenv("HTTPS_PROXY", "http://127.0.0.1:9")
    monkeypatch.setenv("http_proxy", "http://127.0.0.1:9")
    monkeypatch.setenv("NO_PROXY", "example.org")
    before = (edge_tts.communicate.WSS_URL, edge_tts.voices.VOICE_LIST)

    async def scenario() -> None:
        async with FakeEdgeServer() as server:
            with patch_edge_tts(server):
                assert edge_tts.communicate.WSS_URL == server.wss_url
                assert edge_tts.voices.VOICE_LIST == server.voice_list_url
                assert "HTTPS_PROXY" not in os.environ and "http_proxy" not in os.environ
                assert os.environ["NO_PROXY"] == "example.org"
                await speak(SENTENCE)

    run(scenario())
    assert (edge_tts.communicate.WSS_URL, edge_tts.voices.VOICE_LIST) == before
    assert os.environ["HTTPS_PROXY"] == os.environ["http_proxy"] == "http://127.0.0.1:9"


def test_standalone_server_prints_its_urls_and_serves() -> None:
    command = [sys.executable, "-m", "reader.testing.fake_edge", "--first-byte-ms", "50"]
    command += ["--speed", "20", "--fault", "http_429"]
    with subprocess.Popen(command, stdout=subprocess.PIPE, text=True) as process:
        try:
            assert process.stdout is not None
            urls = dict(process.stdout.readline().strip().split("=", 1) for _ in range(2))
            assert set(urls) == {"WSS_URL", "VOICE_LIST"}

            async def scenario() -> Heard:
                await _expect_handshake_error(429)
                return await speak(SENTENCE)

            with patch_edge_tts(Endpoints(urls["WSS_URL"], urls["VOICE_LIST"])):
                heard = run(scenario())
            assert heard.seconds > 2
        finally:
            process.send_signal(signal.SIGINT)
            assert process.wait(timeout=10) == 0


async def _expect_handshake_error(status: int) -> None:
    with pytest.raises(aiohttp.WSServerHandshakeError) as raised:
        await speak(SENTENCE)
    assert raised.value.status == status
