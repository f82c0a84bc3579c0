"""Offline engine speed: seconds of audio per second of CPU, over the seed page's sentences.

CPU is this process's plus its children's (ffmpeg encodes every clip), from getrusage. Target:
>= 50x. Also prints the median wall time per sentence, split into espeak and MP3 encoding.
Run: .venv/bin/python bench/espeak_speed.py [TEXT_FILE]
"""

from __future__ import annotations

import asyncio
import resource
import statistics
import sys
import tempfile
import time
from collections.abc import Awaitable
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

from reader.audio import pcm_to_mp3, probe_mp3
from reader.config import Settings
from reader.engines.espeak import EspeakEngine
from reader.pipeline import TextPipeline
from reader.types import Prosody, Voice

ROOT = Path(__file__).resolve().parent.parent
TEXT = ROOT.parent / "shared" / "corpus" / "text" / "cq-gov-wiie-2025.txt"
TARGET = 50.0  # seconds of audio per CPU second
VOICE = Voice("bench", "普通话", "zh-CN", {"espeak": "cmn"})
PROSODY = Prosody()
T = TypeVar("T")


def cpu_seconds() -> float:
    """User + system CPU of this process and of its finished children (ffmpeg)."""
    own = resource.getrusage(resource.RUSAGE_SELF)
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


@dataclass
class Meter:
    """Wall and CPU time spent in one kind of work."""

    wall: list[float]
    cpu: float = 0.0

    async def measure(self, work: Awaitable[T]) -> T:
        """Await ``work`` (a coroutine does nothing until awaited) and record its cost."""
        cpu, wall = cpu_seconds(), time.perf_counter()
        result = await work
        self.wall.append(time.perf_counter() - wall)
        self.cpu += cpu_seconds() - cpu
        return result


def sentences(path: Path) -> list[str]:
    """The page's segments as the service speaks them to the offline engine (full level)."""
    with tempfile.TemporaryDirectory() as cache:
        pipeline = TextPipeline.load(Settings.from_env({"READER_CACHE_DIR": cache}))
        article = pipeline.from_page_text(path.read_text(encoding="utf-8"))
        return [segment.speak for segment in pipeline.segments(article, level="full")]


async def end_to_end(engine: EspeakEngine, texts: list[str]) -> tuple[float, Meter]:
    """``synthesize`` for each sentence in turn: seconds of audio, and the time it took."""
    meter, audio_ms = Meter([]), 0.0
    for text in texts:
        audio = await meter.measure(engine.synthesize(text, VOICE, PROSODY))
        audio_ms += audio.duration_ms
    return audio_ms / 1000, meter


async def split(engine: EspeakEngine, texts: list[str]) -> tuple[Meter, Meter]:
    """The same work in its two stages: espeak's PCM, then ffmpeg's MP3."""
    speaking, encoding = Meter([]), Meter([])
    for text in texts:
        speech = await speaking.measure(engine.speak_pcm(text, "cmn", PROSODY))
        await encoding.measure(asyncio.to_thread(pcm_to_mp3, speech.pcm, speech.sample_rate))
    return speaking, encoding


def probe_microseconds(clip: bytes, runs: int = 200) -> float:
    """Median time of ``probe_mp3`` on (about) a 30 KB clip."""
    data = (clip * (30_000 // len(clip) + 1))[:30_000 // 144 * 144]
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        probe_mp3(data)
        times.append(time.perf_counter() - start)
    return statistics.median(times) * 1e6


async def main() -> None:
    path = Path(sys.argv[1]) if len(sys.argv) > 1 else TEXT
    texts = sentences(path)
    engine = EspeakEngine()
    try:
        warm = await engine.synthesize(texts[0], VOICE, PROSODY)  # load data, start ffmpeg once
        audio_seconds, total = await end_to_end(engine, texts)
        speaking, encoding = await split(engine, texts)
    finally:
        await engine.aclose()
    ratio = audio_seconds / total.cpu
    verdict = "ok" if ratio >= TARGET else "MISSED"
    print(f"{engine!r}: {len(texts)} sentences from {path.name}")
    print(f"audio {audio_seconds:.1f} s, CPU {total.cpu:.2f} s (self + ffmpeg):"
          f" {ratio:.0f}x real time per CPU second (target >= {TARGET:.0f}x: {verdict})")
    print(f"wall per sentence, median: {statistics.median(total.wall) * 1000:.1f} ms"
          f" = espeak {statistics.median(speaking.wall) * 1000:.1f} ms"
          f" + MP3 encoding {statistics.median(encoding.wall) * 1000:.1f} ms")
    print(f"CPU split: espeak {speaking.cpu:.2f} s, MP3 encoding {encoding.cpu:.2f} s")
    print(f"probe_mp3 on a 30 KB clip: {probe_microseconds(warm.data):.0f} us (target < 200)")


if __name__ == "__main__":
    asyncio.run(main())
