"""Cache speed: hit latency for 30 KB clips, and put() throughput.

Target: <= 1 ms median per hit (a whole article's clips are looked up before the first one
plays). Stores 500 clips of 30 KB with word boundaries, then times 2,000 random hits through
``get()`` (what a request thread pays) and through ``get_or_create()`` (the async path, which
adds a task and a worker-thread hop). put() includes four fsyncs per clip and says what this
disk pays for durability. Run: .venv/bin/python bench/cache_hits.py [CLIPS] [HITS] [ROOT]
(ROOT: a folder on the disk to measure; default a temp folder).
"""

from __future__ import annotations

import asyncio
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

from reader.cache import DiskCache, cache_key
from reader.types import Audio, Boundary, Prosody

CLIP_BYTES = 30_000
TARGET_MS = 1.0


def clip(i: int, rng: random.Random) -> tuple[str, Audio]:
    """A key and a 30 KB clip with a sentence's worth of word boundaries."""
    key = cache_key(engine="edge", revision="1", voice="zh-CN-XiaoxiaoNeural",
                    prosody=Prosody().key(), speak=f"第{i}句话。", lexicon=())
    words = tuple(Boundary("word", "词语", n * 300.0, 280.0) for n in range(12))
    return key, Audio(rng.randbytes(CLIP_BYTES), 3600.0, "edge", "zh-CN-XiaoxiaoNeural", words)


def percentile(samples: list[float], fraction: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


def time_puts(cache: DiskCache, clips: list[tuple[str, Audio]]) -> float:
    """Seconds to store every clip."""
    start = time.perf_counter()
    for key, audio in clips:
        cache.put(key, audio)
    return time.perf_counter() - start


def time_gets(cache: DiskCache, keys: list[str]) -> list[float]:
    """Milliseconds per ``get()``; every one must be a hit."""
    times = []
    for key in keys:
        start = time.perf_counter()
        found = cache.get(key)
        times.append((time.perf_counter() - start) * 1000)
        assert found is not None, "a stored clip missed"
    return times


async def time_get_or_create(cache: DiskCache, keys: list[str]) -> list[float]:
    """Milliseconds per ``get_or_create()`` hit, one at a time."""

    async def make() -> Audio:
        raise AssertionError("a stored clip missed")

    times = []
    for key in keys:
        start = time.perf_counter()
        await cache.get_or_create(key, make)
        times.append((time.perf_counter() - start) * 1000)
    return times


def report(label: str, times: list[float]) -> None:
    median = statistics.median(times)
    verdict = "ok" if median <= TARGET_MS else "SLOW"
    print(f"{label}: median {median:.3f} ms, p99 {percentile(times, 0.99):.3f} ms "
          f"over {len(times):,} hits  (target <= {TARGET_MS:g} ms median: {verdict})")


def main() -> None:
    count = int(sys.argv[1]) if len(sys.argv) > 1 else 500
    hits = int(sys.argv[2]) if len(sys.argv) > 2 else 2000
    base = sys.argv[3] if len(sys.argv) > 3 else None
    rng = random.Random(7)
    clips = [clip(i, rng) for i in range(count)]
    keys = [rng.choice(clips)[0] for _ in range(hits)]
    with tempfile.TemporaryDirectory(dir=base) as tmp, DiskCache(Path(tmp)) as cache:
        seconds = time_puts(cache, clips)
        print(f"put(): {count / seconds:,.0f} clips/s, {count * CLIP_BYTES / seconds / 1e6:.1f} "
              f"MB/s, {seconds / count * 1000:.2f} ms per clip ({count} clips of "
              f"{CLIP_BYTES // 1000} KB, fsynced)")
        time_gets(cache, keys[:200])  # warm-up: page cache, code paths
        report("get() hit", time_gets(cache, keys))
        report("get_or_create() hit", asyncio.run(time_get_or_create(cache, keys)))
        stats = cache.stats()
        print(f"stats: {stats.clips} clips, {stats.bytes / 1e6:.1f} MB, {stats.hits:,} hits, "
              f"{stats.misses} misses")


if __name__ == "__main__":
    main()
