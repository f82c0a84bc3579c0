"""The offline engine against the real libespeak-ng from espeakng-loader.

pytest-asyncio is not used: each test drives its coroutine with ``asyncio.run``. One engine
serves the module (its worker thread outlives each test's event loop, as it would outlive
requests).
"""

from __future__ import annotations

import array
import asyncio
import math
import os
import threading
import time
from collections.abc import Coroutine, Iterator
from pathlib import Path
from typing import Any, TypeVar

import pytest

from reader.audio import ENCODER_DELAY_MS, decode_mp3, probe_mp3
from reader.engines import espeak
from reader.engines.espeak import (
    EspeakEngine,
    Mark,
    Speech,
    boundaries,
    espeak_pitch,
    espeak_rate,
    espeak_volume,
)
from reader.errors import EngineRejected, EngineUnavailable
from reader.types import Audio, Prosody, Voice

T = TypeVar("T")

MANDARIN = Voice("test-cmn", "普通话", "zh-CN", {"espeak": "cmn"})
CANTONESE = Voice("test-yue", "粵語", "zh-HK", {"espeak": "yue"})
ENGLISH = Voice("test-en", "English", "en-US", {"espeak": "en-us"})
NORMAL = Prosody()
WELCOME = "重庆欢迎您。"
LONG_TEXT = ("9月5日上午，2025世界智能产业博览会在重庆开幕。习近平向博览会致贺信，"
             "促进智能产业健康蓬勃发展，让智能成果更好惠及各国人民。") * 6


def run(coroutine: Coroutine[Any, Any, T]) -> T:
    return asyncio.run(coroutine)


@pytest.fixture(scope="module")
def engine() -> Iterator[EspeakEngine]:
    engine = EspeakEngine()
    yield engine
    run(engine.aclose())


def speak(engine: EspeakEngine, text: str, voice: Voice = MANDARIN,
          prosody: Prosody = NORMAL) -> Audio:
    return run(engine.synthesize(text, voice, prosody))


def words(audio: Audio) -> list[str]:
    return [b.text for b in audio.boundaries if b.kind == "word"]


# ---------------------------------------------------------------- speaking


def test_mandarin_gives_a_valid_clip_with_words_in_order(engine: EspeakEngine) -> None:
    audio = speak(engine, WELCOME)
    info = probe_mp3(audio.data)
    assert info.is_project_format()
    assert 500 <= audio.duration_ms == info.duration_ms <= 5000
    assert (audio.engine, audio.voice) == ("espeak", "cmn")
    assert words(audio) == ["重庆", "欢迎", "您"]
    offsets = [b.offset_ms for b in audio.boundaries if b.kind == "word"]
    assert offsets == sorted(offsets) and len(set(offsets)) == len(offsets)
    assert offsets[0] == pytest.approx(ENCODER_DELAY_MS)
    last = audio.boundaries[-1]
    assert last.offset_ms + last.duration_ms <= audio.duration_ms


def test_the_sentence_boundary_covers_the_sentence(engine: EspeakEngine) -> None:
    audio = speak(engine, "Hello world. This is Chongqing!", ENGLISH)
    sentences = [b for b in audio.boundaries if b.kind == "sentence"]
    assert [s.text for s in sentences] == ["Hello world.", "This is Chongqing!"]
    assert sentences[0].offset_ms < sentences[1].offset_ms
    assert words(audio) == ["Hello", "world", "This", "is", "Chongqing"]


@pytest.mark.parametrize(("voice", "text"), [
    (ENGLISH, "Welcome to Chongqing, the mountain city."),
    (CANTONESE, "重慶歡迎您。"),
])
def test_english_and_cantonese_voices_speak(engine: EspeakEngine, voice: Voice,
                                            text: str) -> None:
    audio = speak(engine, text, voice)
    assert probe_mp3(audio.data).is_project_format()
    assert 500 <= audio.duration_ms <= 6000
    assert audio.voice == voice.engines["espeak"] and words(audio)


def test_numbers_read_as_several_words_stay_one_word(engine: EspeakEngine) -> None:
    audio = speak(engine, "2025年。")
    assert words(audio)[0] == "2025"


def test_rate_changes_the_duration(engine: EspeakEngine) -> None:
    fast = speak(engine, WELCOME, prosody=Prosody(rate=100))
    slow = speak(engine, WELCOME, prosody=Prosody(rate=-50))
    assert fast.duration_ms < 0.6 * slow.duration_ms


def test_volume_changes_the_level(engine: EspeakEngine) -> None:
    loud = _rms(speak(engine, WELCOME, prosody=Prosody(volume=50)))
    quiet = _rms(speak(engine, WELCOME, prosody=Prosody(volume=-50)))
    assert quiet < 0.6 * loud


def _rms(audio: Audio) -> float:
    samples = array.array("h", decode_mp3(audio.data)[0])
    return math.sqrt(sum(value * value for value in samples) / len(samples))


@pytest.mark.parametrize(("percent", "wpm"), [(0, 175), (100, 350), (-50, 88), (50, 262),
                                              (200, 450), (-90, 80)])
def test_rate_mapping(percent: int, wpm: int) -> None:
    assert espeak_rate(percent) == wpm


@pytest.mark.parametrize(("percent", "level"), [(0, 100), (50, 150), (-50, 50), (-100, 0),
                                                (150, 200)])
def test_volume_mapping(percent: int, level: int) -> None:
    assert espeak_volume(percent) == level


@pytest.mark.parametrize(("hertz", "pitch"), [(0, 50), (50, 100), (-50, 0), (10, 60),
                                              (80, 100), (-80, 0)])
def test_pitch_mapping(hertz: int, pitch: int) -> None:
    assert espeak_pitch(hertz) == pitch


def test_revision_names_the_library_version(engine: EspeakEngine) -> None:
    assert engine.revision.startswith("1+libespeak-ng-1.")
    assert engine.name == "espeak"


# ---------------------------------------------------------------- refusing


def test_an_unknown_espeak_voice_is_rejected_by_name(engine: EspeakEngine) -> None:
    voice = Voice("klingon", "Klingon", "tlh", {"espeak": "tlh-nosuch"})
    with pytest.raises(EngineRejected, match="tlh-nosuch") as caught:
        speak(engine, WELCOME, voice)
    assert caught.value.engine == "espeak"


def test_a_preset_without_an_espeak_voice_is_rejected_by_name(engine: EspeakEngine) -> None:
    voice = Voice("xiaoxiao", "晓晓", "zh-CN", {"edge": "zh-CN-XiaoxiaoNeural"})
    with pytest.raises(EngineRejected, match="xiaoxiao"):
        speak(engine, WELCOME, voice)


@pytest.mark.parametrize("text", ["。，！？", "……", "", "   ", "\u3000\n"])
def test_nothing_speakable_is_rejected(engine: EspeakEngine, text: str) -> None:
    with pytest.raises(EngineRejected, match="nothing to speak|no text"):
        speak(engine, text)


def test_the_voice_still_works_after_a_rejection(engine: EspeakEngine) -> None:
    with pytest.raises(EngineRejected):
        speak(engine, WELCOME, Voice("bad", "bad", "xx", {"espeak": "no-such-voice"}))
    assert words(speak(engine, WELCOME)) == ["重庆", "欢迎", "您"]


def test_a_missing_library_is_unavailable_with_its_path(tmp_path: Path) -> None:
    missing = tmp_path / "libespeak-ng.so"
    engine = EspeakEngine(library_path=missing)
    assert engine.revision.endswith("unavailable")
    with pytest.raises(EngineUnavailable, match=str(missing)):
        speak(engine, WELCOME)
    run(engine.aclose())


def test_missing_data_is_unavailable_and_does_not_exit(tmp_path: Path) -> None:
    engine = EspeakEngine(data_path=tmp_path)
    try:
        with pytest.raises(EngineUnavailable, match="data not found"):
            speak(engine, WELCOME)
    finally:
        run(engine.aclose())


def test_a_closed_engine_is_unavailable() -> None:
    engine = EspeakEngine()
    assert words(speak(engine, WELCOME)) == ["重庆", "欢迎", "您"]
    run(engine.aclose())
    run(engine.aclose())  # closing twice is harmless
    with pytest.raises(EngineUnavailable, match="closed"):
        speak(engine, WELCOME)


# ---------------------------------------------------------------- threads and the event loop


def test_twenty_concurrent_calls_all_succeed_one_at_a_time_on_the_worker(
        engine: EspeakEngine, monkeypatch: pytest.MonkeyPatch) -> None:
    library = espeak.open_library(os.path.realpath(engine.library_path))
    real_speak = library.speak
    active, most_at_once, threads = [0], [0], set()

    def watched_speak(*args: Any) -> Speech:
        active[0] += 1
        most_at_once[0] = max(most_at_once[0], active[0])
        threads.add(threading.current_thread().name)
        try:
            return real_speak(*args)
        finally:
            active[0] -= 1

    monkeypatch.setattr(library, "speak", watched_speak)
    texts = [f"第{index}句：重庆欢迎您。" for index in range(20)]

    async def all_at_once() -> list[Audio]:
        return await asyncio.gather(*(engine.synthesize(t, MANDARIN, NORMAL) for t in texts))

    clips = run(all_at_once())
    assert [probe_mp3(clip.data).duration_ms > 500 for clip in clips] == [True] * 20
    assert most_at_once == [1]
    assert len(threads) == 1 and threads.pop().startswith("espeak")


def test_the_event_loop_keeps_running_while_espeak_speaks(engine: EspeakEngine) -> None:
    async def speak_while_ticking() -> tuple[int, float, float]:
        ticks, longest_gap, done = 0, 0.0, asyncio.Event()

        async def ticker() -> None:
            nonlocal ticks, longest_gap
            last = time.perf_counter()
            while not done.is_set():
                await asyncio.sleep(0)
                now = time.perf_counter()
                ticks, longest_gap, last = ticks + 1, max(longest_gap, now - last), now

        ticking = asyncio.create_task(ticker())
        start = time.perf_counter()
        await engine.speak_pcm(LONG_TEXT * 3, "cmn", NORMAL)
        elapsed = time.perf_counter() - start
        done.set()
        await ticking
        return ticks, longest_gap, elapsed

    ticks, longest_gap, elapsed = run(speak_while_ticking())
    assert ticks >= 20
    assert longest_gap < elapsed / 2


# ---------------------------------------------------------------- boundaries from events


def test_boundaries_run_from_one_word_to_the_next() -> None:
    text = "重庆欢迎您。"
    marks = (Mark(espeak.espeakEVENT_SENTENCE, 1, 0, 0),
             Mark(espeak.espeakEVENT_WORD, 1, 1, 0),
             Mark(espeak.espeakEVENT_WORD, 3, 1, 700),
             Mark(espeak.espeakEVENT_WORD, 5, 1, 1300))
    speech = Speech(bytes(2 * 22_050 * 2), 22_050, marks)  # 2 s of PCM
    found = boundaries(text, speech, shift_ms=0)
    assert [(b.kind, b.text, b.offset_ms, b.duration_ms) for b in found] == [
        ("sentence", "重庆欢迎您。", 0, 2000),
        ("word", "重庆", 0, 700),
        ("word", "欢迎", 700, 600),
        ("word", "您", 1300, 700),
    ]


def test_boundaries_merge_the_spoken_parts_of_one_written_word() -> None:
    text = "在2025年"  # espeak says 2025 as several words, marking inside it
    marks = (Mark(espeak.espeakEVENT_WORD, 1, 1, 0),
             Mark(espeak.espeakEVENT_WORD, 2, 4, 200),
             Mark(espeak.espeakEVENT_WORD, 3, 4, 500),
             Mark(espeak.espeakEVENT_WORD, 3, 4, 800),
             Mark(espeak.espeakEVENT_WORD, 6, 1, 1500))
    speech = Speech(bytes(2 * 22_050 * 2), 22_050, marks)
    found = boundaries(text, speech, shift_ms=10)
    assert [(b.text, b.offset_ms, b.duration_ms) for b in found] == [
        ("在", 10, 200), ("2025", 210, 1300), ("年", 1510, 500)]
