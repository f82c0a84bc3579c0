"""The clip cache: pinned keys, the storage contract, crash safety, single-flight, full disks.

Contract tests take ``open_cache``, a fixture parametrised over storage implementations, and use
only the public API, so a second implementation runs them by adding itself to ``STORES``.
Tests that look at files on disk take ``tmp_path`` and build a ``DiskCache`` directly.
"""

from __future__ import annotations

import asyncio
import errno
import hashlib
import json
import logging
import os
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Callable, Collection, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from reader.cache import (
    KEY_SCHEME,
    DiskCache,
    Fetched,
    cache_key,
    check_key,
)
from reader.errors import BadCacheKey, CacheError, EngineUnavailable, InputError
from reader.types import Audio, Boundary, Prosody

ROOT = Path(__file__).resolve().parent.parent


# ---------------------------------------------------------------- helpers


def clip_key(i: int) -> str:
    """The key of test clip ``i`` (also used by the SIGKILL writer subprocess)."""
    return cache_key(engine="fake", revision="1", voice="v", prosody=Prosody().key(),
                     speak=f"句子 {i}", lexicon=())


def clip_bytes(i: int, size: int = 3000) -> bytes:
    """Deterministic, index-specific bytes, so a reader can tell exactly what was written."""
    block = hashlib.sha256(f"clip {i}".encode()).digest()
    return (block * (size // len(block) + 1))[:size]


def clip_audio(i: int, size: int = 3000) -> Audio:
    words = (Boundary("word", "句子", 0.0, 250.5), Boundary("word", str(i), 250.5, 100.0))
    return Audio(clip_bytes(i, size), 350.5, "fake", "v", words)


class Clock:
    """A clock the test moves by hand, for LRU order."""

    def __init__(self, now: float = 1000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now

    def tick(self) -> float:
        self.now += 1.0
        return self.now


def temp_files(root: Path) -> list[Path]:
    return sorted(root.rglob("*.tmp"))


def clip_files(root: Path) -> list[Path]:
    return sorted(p for p in root.rglob("*") if p.suffix in {".mp3", ".json", ".tmp"})


# ---------------------------------------------------------------- the contract fixture

Opener = Callable[..., DiskCache]

#: Storage implementations the contract tests run against: name -> (root, **options) -> cache.
STORES: dict[str, Callable[..., DiskCache]] = {"disk": DiskCache}


@pytest.fixture(params=sorted(STORES))
def open_cache(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Opener]:
    """Opens a cache on this test's root (again and again: reopening sees the same clips)."""
    opened: list[DiskCache] = []

    def open_(**options: Any) -> DiskCache:
        cache = STORES[request.param](tmp_path / "cache", **options)
        opened.append(cache)
        return cache

    yield open_
    for cache in opened:
        cache.close()


# ---------------------------------------------------------------- keys

PINNED_FIELDS: dict[str, Any] = {
    "engine": "edge",
    "revision": "1",
    "voice": "zh-CN-XiaoxiaoNeural",
    "prosody": "rate=+0%,volume=+0%,pitch=+0Hz",
    "speak": "重庆市人民政府",
    "lexicon": (("重庆", "chóng qìng"),),
}
PINNED_KEY = "e3bb2938b44cda8b5b5fbc42e16f8344ac0c573c84088362644fb79eba4d15b6"


def test_key_is_pinned() -> None:
    """This must not change: a different key orphans every stored clip."""
    assert KEY_SCHEME == 1
    assert cache_key(**PINNED_FIELDS) == PINNED_KEY
    # The encoding, spelled out: sorted-key compact JSON, UTF-8, the scheme inside.
    canonical = ('{"engine":"edge","lexicon":[["重庆","chóng qìng"]],'
                 '"prosody":"rate=+0%,volume=+0%,pitch=+0Hz","revision":"1","scheme":1,'
                 '"speak":"重庆市人民政府","voice":"zh-CN-XiaoxiaoNeural"}')
    assert hashlib.sha256(canonical.encode()).hexdigest() == PINNED_KEY


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("engine", "espeak"),
        ("revision", "2"),
        ("voice", "zh-CN-YunxiNeural"),
        ("prosody", "rate=+10%,volume=+0%,pitch=+0Hz"),
        ("speak", "重庆市人民政府。"),
        ("lexicon", ()),
        ("lexicon", (("重庆", "chong qing"),)),
        ("lexicon", (("重庆", "chóng qìng"), ("政府", "zhèng fǔ"))),
    ],
)
def test_key_changes_with_every_field(field: str, value: object) -> None:
    assert cache_key(**{**PINNED_FIELDS, field: value}) != PINNED_KEY


def test_fields_cannot_bleed_into_each_other() -> None:
    base = {**PINNED_FIELDS, "lexicon": ()}
    pairs: list[tuple[dict[str, Any], dict[str, Any]]] = [
        ({"engine": "a|b", "revision": "c"}, {"engine": "a", "revision": "b|c"}),
        ({"voice": "v", "prosody": "", "speak": "x"}, {"voice": "", "prosody": "v", "speak": "x"}),
        ({"lexicon": (("ab", "c"),)}, {"lexicon": (("a", "bc"),)}),
        ({"lexicon": (("a", "b"), ("c", "d"))}, {"lexicon": (("a", "b\", \"c"), ("", "d"))}),
    ]
    for one, other in pairs:
        assert cache_key(**{**base, **one}) != cache_key(**{**base, **other})


def test_key_fields_must_be_text() -> None:
    with pytest.raises(TypeError, match="revision"):
        cache_key(**{**PINNED_FIELDS, "revision": 1})
    with pytest.raises(TypeError, match="lexicon"):
        cache_key(**{**PINNED_FIELDS, "lexicon": (("重庆", None),)})


def test_a_lone_surrogate_still_has_a_key() -> None:
    assert check_key(cache_key(**{**PINNED_FIELDS, "speak": "坏\ud800字"}))


BAD_KEYS: list[object] = [
    "../x",
    "../" + "a" * 61,
    "a" * 62 + "/x",
    "AB" + "a" * 62,
    "A" * 64,
    "a" * 63,
    "a" * 65,
    "g" * 64,
    "",
    "a" * 64 + "\n",
    " " + "a" * 63,
    "٠" * 64,  # Arabic-Indic zero: a digit to str.isdigit, not to us
    None,
    b"a" * 64,
]


@given(st.text(max_size=70))
def test_only_lowercase_hex_of_64_passes(text: str) -> None:
    good = len(text) == 64 and all(c in "0123456789abcdef" for c in text)
    if good:
        assert check_key(text) == text
    else:
        with pytest.raises(BadCacheKey):
            check_key(text)


# Filesystem and database events (PEP 578) that a bad key must never cause.
_FS_EVENTS = frozenset({"open", "os.listdir", "os.scandir", "os.mkdir", "os.remove", "os.rename",
                        "os.replace", "os.rmdir", "os.truncate", "os.chmod", "sqlite3.connect"})
_audit: dict[str, list[str] | None] = {"seen": None}


def _record_fs(event: str, args: tuple[object, ...]) -> None:
    seen = _audit["seen"]
    if seen is not None and event in _FS_EVENTS:
        seen.append(f"{event} {args[:1]!r}")


@pytest.fixture(scope="session")
def fs_events() -> Callable[[], Any]:
    """A context manager listing the filesystem events inside it. Audit hooks cannot be
    removed, so one is installed per session and records only while asked to."""
    sys.addaudithook(_record_fs)

    @contextmanager
    def watch() -> Iterator[list[str]]:
        seen: list[str] = []
        _audit["seen"] = seen
        try:
            yield seen
        finally:
            _audit["seen"] = None

    return watch


@pytest.mark.parametrize("key", BAD_KEYS, ids=repr)
def test_bad_keys_never_reach_the_filesystem(
    open_cache: Opener, fs_events: Callable[[], Any], key: Any
) -> None:
    cache = open_cache()

    async def get_or_create() -> Fetched:
        async def make() -> Audio:
            raise AssertionError("make must not be called for a bad key")

        return await cache.get_or_create(key, make)

    calls: list[Callable[[], object]] = [
        lambda: cache.get(key),
        lambda: cache.put(key, clip_audio(1)),
        lambda: cache.pin([clip_key(1), key]),
        lambda: cache.unpin([key]),
        lambda: asyncio.run(get_or_create()),
    ]
    with fs_events() as seen:
        for call in calls:
            with pytest.raises(BadCacheKey) as caught:
                call()
            assert isinstance(caught.value, ValueError)
            assert isinstance(caught.value, InputError)  # the API maps it to a 4xx
    assert seen == []
    assert cache.stats().pinned == 0  # the good key beside the bad one was not pinned either


# ---------------------------------------------------------------- storage contract


def test_round_trip(open_cache: Opener) -> None:
    cache = open_cache()
    key, audio = clip_key(1), clip_audio(1, size=30_000)
    stored = cache.put(key, audio)
    assert stored.audio == audio
    clip = cache.get(key)
    assert clip is not None
    assert clip.audio == audio  # bytes, duration, engine, voice and boundaries
    assert clip.key == key
    assert clip.sha256 == hashlib.sha256(audio.data).hexdigest()
    assert clip.path.read_bytes() == audio.data
    assert cache.get(clip_key(2)) is None


def test_clips_survive_reopening(open_cache: Opener) -> None:
    with open_cache() as cache:
        cache.put(clip_key(1), clip_audio(1))
    clip = open_cache().get(clip_key(1))
    assert clip is not None and clip.audio == clip_audio(1)


def test_put_replaces(open_cache: Opener) -> None:
    cache = open_cache()
    cache.put(clip_key(1), clip_audio(1))
    cache.put(clip_key(1), clip_audio(2))
    clip = cache.get(clip_key(1))
    assert clip is not None and clip.audio == clip_audio(2)
    assert cache.stats().clips == 1


def test_stats_count(open_cache: Opener) -> None:
    cache = open_cache()
    cache.put(clip_key(1), clip_audio(1), pin=True)
    cache.put(clip_key(2), clip_audio(2))
    cache.get(clip_key(1))
    cache.get(clip_key(1))
    cache.get(clip_key(3))
    stats = cache.stats()
    assert (stats.clips, stats.pinned, stats.hits, stats.misses) == (2, 1, 2, 1)
    assert stats.bytes >= 2 * 3000


def _fill(cache: DiskCache, clock: Clock, indexes: range, pin: Collection[int] = ()) -> None:
    """Store these clips, one clock tick apart."""
    for i in indexes:
        clock.tick()
        cache.put(clip_key(i), clip_audio(i), pin=i in pin)


def _present(cache: DiskCache, clock: Clock, indexes: range) -> set[int]:
    """Which of these clips are stored. Looking is a hit: they become used, in index order."""
    return {i for i in indexes if clock.tick() and cache.get(clip_key(i)) is not None}


def _capped(open_cache: Opener, clock: Clock, clips: float) -> DiskCache:
    """A cache whose cap holds ``clips`` test clips (they all have about one size).

    The clip measured (-1) stays behind as the least recently used: the first to be evicted.
    """
    with open_cache(clock=clock) as probe:
        probe.put(clip_key(-1), clip_audio(-1))
        size = probe.stats().bytes
    return open_cache(clock=clock, max_bytes=int(size * clips))


def test_lru_eviction_order(open_cache: Opener) -> None:
    clock = Clock()
    cache = _capped(open_cache, clock, clips=3.5)
    _fill(cache, clock, range(3))
    clock.tick()
    assert cache.get(clip_key(0)) is not None  # 0 is now the most recently used
    _fill(cache, clock, range(3, 4))
    assert cache.stats().evictions == 2  # the probe, then 1: the least recently used
    assert _present(cache, clock, range(-1, 4)) == {0, 2, 3}


def test_access_order_survives_reopening(open_cache: Opener) -> None:
    """Access times are flushed on close, not lost with the memory they were batched in."""
    clock = Clock()
    with _capped(open_cache, clock, clips=3.5) as cache:
        _fill(cache, clock, range(3))
        clock.tick()
        cache.get(clip_key(0))
    cache = open_cache(clock=clock, max_bytes=cache.max_bytes)
    _fill(cache, clock, range(3, 4))
    assert _present(cache, clock, range(4)) == {0, 2, 3}


def test_pinned_clips_survive_eviction(open_cache: Opener) -> None:
    clock = Clock()
    cache = _capped(open_cache, clock, clips=3.5)
    _fill(cache, clock, range(3), pin={0})  # 0 is the oldest, and pinned
    _fill(cache, clock, range(3, 5))
    assert _present(cache, clock, range(5)) == {0, 3, 4}
    assert cache.stats().pinned == 1
    cache.unpin([clip_key(0)])  # 3 clips fit: nothing to evict yet
    assert cache.stats().pinned == 0
    _fill(cache, clock, range(5, 6))
    assert _present(cache, clock, range(6)) == {3, 4, 5}  # 0 was least recently used


def test_unpin_evicts_at_once_when_over_the_cap(open_cache: Opener) -> None:
    clock = Clock()
    cache = _capped(open_cache, clock, clips=2.5)
    _fill(cache, clock, range(4), pin={0, 1, 2, 3})  # pins may hold the cache over its cap
    assert _present(cache, clock, range(4)) == {0, 1, 2, 3}
    cache.unpin([clip_key(0), clip_key(1)])
    assert _present(cache, clock, range(4)) == {2, 3}


def test_pin_before_the_clip_exists(open_cache: Opener) -> None:
    clock = Clock()
    cache = _capped(open_cache, clock, clips=2.5)
    cache.pin([clip_key(0)])
    _fill(cache, clock, range(4))
    assert _present(cache, clock, range(4)) == {0, 3}


def test_a_clip_bigger_than_the_cap_is_still_stored(open_cache: Opener) -> None:
    cache = open_cache(max_bytes=1000)
    cache.put(clip_key(1), clip_audio(1))
    assert cache.get(clip_key(1)) is not None


def test_threads_share_a_cache(open_cache: Opener) -> None:
    cache = open_cache(max_bytes=40 * 4000, flush_every=7)

    def work(i: int) -> bool:
        cache.put(clip_key(i), clip_audio(i))
        clip = cache.get(clip_key(i % 10))
        return clip is None or clip.audio == clip_audio(i % 10)

    with ThreadPoolExecutor(8) as pool:
        assert all(pool.map(work, range(200)))
    assert cache.stats().bytes <= 40 * 4000


# ---------------------------------------------------------------- single-flight


def test_concurrent_callers_share_one_make(open_cache: Opener) -> None:
    cache = open_cache()
    calls = 0

    async def make() -> Audio:
        nonlocal calls
        calls += 1
        await asyncio.sleep(0)
        return clip_audio(1)

    async def main() -> list[Fetched]:
        return await asyncio.gather(*(cache.get_or_create(clip_key(1), make) for _ in range(100)))

    results = asyncio.run(main())
    assert calls == 1
    assert {r.audio.data for r in results} == {clip_bytes(1)}
    assert not any(r.hit for r in results)
    assert all(r.clip is not None for r in results)
    again = asyncio.run(cache.get_or_create(clip_key(1), make))
    assert (again.hit, calls, again.audio) == (True, 1, clip_audio(1))


def test_cancelled_callers_do_not_cancel_the_work(open_cache: Opener) -> None:
    cache = open_cache()
    calls = 0

    async def main() -> list[Fetched]:
        started, release = asyncio.Event(), asyncio.Event()

        async def make() -> Audio:
            nonlocal calls
            calls += 1
            started.set()
            await release.wait()
            return clip_audio(1)

        waiters = [asyncio.create_task(cache.get_or_create(clip_key(1), make)) for _ in range(10)]
        await started.wait()
        for waiter in waiters[:5]:
            waiter.cancel()
        await asyncio.wait(waiters[:5])
        assert all(w.cancelled() for w in waiters[:5])
        release.set()
        return await asyncio.gather(*waiters[5:])

    results = asyncio.run(main())
    assert calls == 1
    assert all(r.audio == clip_audio(1) for r in results)
    assert cache.get(clip_key(1)) is not None


def test_work_is_stored_even_if_every_caller_leaves(open_cache: Opener) -> None:
    cache = open_cache()

    async def main() -> None:
        started, release = asyncio.Event(), asyncio.Event()

        async def make() -> Audio:
            started.set()
            await release.wait()
            return clip_audio(1)

        waiters = [asyncio.create_task(cache.get_or_create(clip_key(1), make)) for _ in range(3)]
        await started.wait()
        for waiter in waiters:
            waiter.cancel()
        await asyncio.wait(waiters)
        release.set()
        await cache.aclose()  # waits for the work, then closes

    asyncio.run(main())
    clip = open_cache().get(clip_key(1))
    assert clip is not None and clip.audio == clip_audio(1)


def test_a_failing_make_reaches_every_caller_and_stores_nothing(open_cache: Opener) -> None:
    cache = open_cache()
    calls = 0

    async def fail() -> Audio:
        nonlocal calls
        calls += 1
        await asyncio.sleep(0)
        raise EngineUnavailable("edge is down", engine="edge")

    async def succeed() -> Audio:
        nonlocal calls
        calls += 1
        return clip_audio(1)

    async def main() -> tuple[list[Fetched | BaseException], Fetched]:
        failed = await asyncio.gather(
            *(cache.get_or_create(clip_key(1), fail) for _ in range(20)), return_exceptions=True)
        assert cache.get(clip_key(1)) is None
        # At once, on the same loop: the failed flight is already forgotten.
        return failed, await cache.get_or_create(clip_key(1), succeed)

    failed, retried = asyncio.run(main())
    assert all(isinstance(r, EngineUnavailable) for r in failed)
    assert (calls, retried.hit, retried.audio) == (2, False, clip_audio(1))
    assert cache.stats().clips == 1


def test_get_or_create_can_pin(open_cache: Opener) -> None:
    cache = open_cache()

    async def make() -> Audio:
        return clip_audio(1)

    asyncio.run(cache.get_or_create(clip_key(1), make, pin=True))
    cache.put(clip_key(2), clip_audio(2))
    asyncio.run(cache.get_or_create(clip_key(2), make, pin=True))  # a hit, pinned too
    assert cache.stats().pinned == 2


# ---------------------------------------------------------------- on disk: layout and index


def test_clips_are_sharded(tmp_path: Path) -> None:
    with DiskCache(tmp_path) as cache:
        key = clip_key(1)
        clip = cache.put(key, clip_audio(1))
    folder = tmp_path / "clips" / key[:2] / key[2:4]
    assert clip.path == folder / f"{key}.mp3"
    record = json.loads((folder / f"{key}.json").read_text(encoding="utf-8"))
    assert record["sha256"] == hashlib.sha256(clip_bytes(1)).hexdigest()
    assert record["size"] == 3000
    assert record["boundaries"][0] == {"kind": "word", "text": "句子", "offset_ms": 0.0,
                                       "duration_ms": 250.5}
    assert (tmp_path / "index.sqlite").is_file()


def _accessed(root: Path, key: str) -> float:
    with sqlite3.connect(root / "index.sqlite") as db:
        row = db.execute("SELECT accessed FROM clips WHERE key = ?", (key,)).fetchone()
    db.close()
    return float(row[0])


def test_hits_are_recorded_in_batches(tmp_path: Path) -> None:
    clock = Clock()
    with DiskCache(tmp_path, clock=clock, flush_every=3, flush_seconds=60) as cache:
        cache.put(clip_key(1), clip_audio(1))
        created = clock.now
        clock.tick()
        cache.get(clip_key(1))
        cache.get(clip_key(1))
        assert _accessed(tmp_path, clip_key(1)) == created  # two hits, no writes yet
        for i in (2, 3):
            cache.put(clip_key(i), clip_audio(i))
            cache.get(clip_key(i))  # the third distinct key fills the batch
        assert _accessed(tmp_path, clip_key(1)) == created + 1
        clock.now += 60
        cache.get(clip_key(1))  # a minute since the last flush: flushed at once
        assert _accessed(tmp_path, clip_key(1)) == clock.now


@pytest.mark.parametrize("lose", ["delete", "garbage"])
def test_a_lost_index_is_rebuilt_from_the_files(tmp_path: Path, lose: str) -> None:
    with DiskCache(tmp_path) as cache:
        for i in range(5):
            cache.put(clip_key(i), clip_audio(i))
        before = cache.stats()
    index = tmp_path / "index.sqlite"
    for path in tmp_path.glob("index.sqlite*"):
        path.unlink()
    if lose == "garbage":
        index.write_bytes(b"this is not a database" * 100)
    with DiskCache(tmp_path) as cache:
        after = cache.stats()
        assert (after.clips, after.bytes) == (before.clips, before.bytes)
        assert all(cache.get(clip_key(i)) is not None for i in range(5))


def test_rebuild_index_keeps_pins(tmp_path: Path) -> None:
    with DiskCache(tmp_path) as cache:
        for i in range(3):
            cache.put(clip_key(i), clip_audio(i), pin=i == 0)
        assert cache.rebuild_index() == 3
        assert (cache.stats().clips, cache.stats().pinned) == (3, 1)


def test_an_unusable_root_is_a_cache_error(tmp_path: Path) -> None:
    (tmp_path / "file").write_text("not a folder")
    with pytest.raises(CacheError, match="cannot use cache folder"):
        DiskCache(tmp_path / "file" / "cache")


# ---------------------------------------------------------------- on disk: debris and damage


def _dead_pid() -> int:
    with subprocess.Popen([sys.executable, "-c", "pass"]) as proc:
        proc.wait()
    return proc.pid


def test_start_up_removes_only_dead_writers_leftovers(tmp_path: Path) -> None:
    key = clip_key(1)
    folder = tmp_path / "clips" / key[:2] / key[2:4]
    folder.mkdir(parents=True)
    dead = folder / f"{key}.mp3.{_dead_pid()}.0a1b2c3d.tmp"
    live = folder / f"{key}.json.{os.getpid()}.0a1b2c3d.tmp"  # a writer still running
    old = folder / f"{key}.mp3.{os.getpid()}.ffffffff.tmp"  # "running" for an hour: no
    odd = folder / "something.tmp"
    lone_new = folder / f"{clip_key(2)}.json"  # a record whose audio may land any moment
    lone_old = folder / f"{clip_key(3)}.json"  # one whose audio never landed
    for path in (dead, live, old, odd, lone_new, lone_old):
        path.write_bytes(b"partial")
    for path in (old, lone_old):
        os.utime(path, (1.0, 1.0))
    DiskCache(tmp_path).close()
    assert sorted(p.name for p in folder.iterdir()) == sorted([live.name, lone_new.name])


def _truncate(path: Path) -> None:
    path.write_bytes(path.read_bytes()[:1000])


def _flip_a_bit(path: Path) -> None:
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0x01
    path.write_bytes(bytes(data))


def _record(path: Path) -> Path:
    return path.with_suffix(".json")


DAMAGE: dict[str, Callable[[Path], object]] = {
    "truncated audio": _truncate,
    "bit-flipped audio": _flip_a_bit,
    "empty audio": lambda p: p.write_bytes(b""),
    "record not json": lambda p: _record(p).write_bytes(b"\x00garbage"),
    "record of another key": lambda p: _record(p).write_text(
        _record(p).read_text(encoding="utf-8").replace(p.stem, clip_key(9)), encoding="utf-8"),
    "record with a wrong type": lambda p: _record(p).write_text(
        _record(p).read_text(encoding="utf-8").replace('"size":3000', '"size":"3000"'),
        encoding="utf-8"),
    "record missing": lambda p: _record(p).unlink(),
}


@pytest.mark.parametrize("damage", sorted(DAMAGE))
def test_a_damaged_clip_is_a_miss_not_bad_audio(tmp_path: Path, damage: str) -> None:
    with DiskCache(tmp_path) as cache:
        path = cache.put(clip_key(1), clip_audio(1)).path
        DAMAGE[damage](path)
        assert cache.get(clip_key(1)) is None
        if damage != "record missing":  # a lone audio file might be mid-write: left to start-up
            assert clip_files(tmp_path) == []
            assert cache.stats().clips == 0
        cache.put(clip_key(1), clip_audio(1))  # and it can be stored again
        assert cache.get(clip_key(1)) is not None


# ---------------------------------------------------------------- on disk: SIGKILL

WRITER = """
import sys
from reader.cache import DiskCache
from tests.test_cache import clip_audio, clip_key
root, start = sys.argv[1], int(sys.argv[2])
cache = DiskCache(root)
for i in range(start, start + 100_000):
    cache.put(clip_key(i), clip_audio(i, size=20_000 + i % 17 * 1000))
    print(i, flush=True)
"""


def _size(i: int) -> int:
    return 20_000 + i % 17 * 1000


def _write_until_killed(root: Path, start: int, progress: int, pause: float) -> int:
    """Run a writer, SIGKILL it once it has reported ``progress`` clips; the last one reported.

    The pipe is the synchronisation: a reported clip was fully stored. ``pause`` only moves
    the moment of the kill about, so that it lands in different phases of a write (killing
    at once usually lands between two writes).
    """
    command = [sys.executable, "-c", WRITER, str(root), str(start)]
    with subprocess.Popen(command, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                          text=True) as proc:
        assert proc.stdout is not None
        for _ in range(progress):
            line = proc.stdout.readline()
            assert line, f"writer died early: {proc.stderr.read() if proc.stderr else ''}"
        if pause:
            time.sleep(pause)
        os.kill(proc.pid, signal.SIGKILL)
        rest, _ = proc.communicate()  # the writer may be ahead of what we had read
        assert proc.returncode == -signal.SIGKILL
    return max([int(line)] + [int(n) for n in rest.split()])


def test_sigkill_mid_write_leaves_only_whole_clips(tmp_path: Path) -> None:
    start = 0
    for progress, pause in [(5, 0.0), (20, 0.0005), (20, 0.001), (40, 0.0015), (60, 0.002)]:
        last = _write_until_killed(tmp_path, start, progress, pause)
        with DiskCache(tmp_path) as cache:
            assert temp_files(tmp_path) == []
            for i in range(start, last + 1):  # reported: put() returned, so it must be there
                clip = cache.get(clip_key(i))
                assert clip is not None and clip.audio == clip_audio(i, _size(i))
            for i in range(last + 1, last + 50):  # maybe written, maybe not: never wrong
                clip = cache.get(clip_key(i))
                assert clip is None or clip.audio == clip_audio(i, _size(i))
        start = last + 50


# Dies by its own SIGKILL just before the ``at``-th fsync or rename of its fourth put: every
# phase of a write, deterministically (folders, record temp, record, audio temp, audio).
CRASHER = """
import os, signal, sys
from reader.cache import DiskCache
from tests.test_cache import clip_audio, clip_key
root, at = sys.argv[1], int(sys.argv[2])
cache = DiskCache(root)
for i in range(3):
    cache.put(clip_key(i), clip_audio(i))
calls = 0
def dying(real):
    def call(*args):
        global calls
        calls += 1
        if calls == at:
            os.kill(os.getpid(), signal.SIGKILL)
        return real(*args)
    return call
os.fsync, os.replace = dying(os.fsync), dying(os.replace)
cache.put(clip_key(3), clip_audio(3))
"""


def _debris(root: Path, key: str) -> set[str]:
    """What a crashed write left for start-up to deal with."""
    record = next(root.rglob(f"{key}.json"), None)
    audio = next(root.rglob(f"{key}.mp3"), None)
    return ({"temp"} if temp_files(root) else set()) | (
        {"lone record"} if record and not audio else set())


def test_a_crash_in_any_phase_of_a_write_is_survived(tmp_path: Path) -> None:
    met: set[str] = set()
    for at in range(1, 10):
        root = tmp_path / str(at)
        command = [sys.executable, "-c", CRASHER, str(root), str(at)]
        done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, check=False)
        assert done.returncode in (0, -signal.SIGKILL), done.stderr
        met |= _debris(root, clip_key(3))
        with DiskCache(root) as cache:
            assert temp_files(root) == []
            assert all(cache.get(clip_key(i)) is not None for i in range(3))
            clip = cache.get(clip_key(3))
            assert clip is None or clip.audio == clip_audio(3)
        if clip is not None:
            met.add("finished" if done.returncode == 0 else "stored, then killed")
    # Every kind of outcome was met, so the loop did reach each phase.
    assert met == {"temp", "lone record", "stored, then killed", "finished"}


# ---------------------------------------------------------------- on disk: full or unwritable


async def _make_one() -> Audio:
    return clip_audio(1)


def _errors(caplog: pytest.LogCaptureFixture) -> list[logging.LogRecord]:
    return [r for r in caplog.records if r.name == "reader.cache" and r.levelno >= logging.ERROR]


def test_unwritable_folder_still_returns_audio(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    with DiskCache(tmp_path) as cache:
        (tmp_path / "clips").rmdir()
        (tmp_path / "clips").write_text("a file where the clips folder was")
        with pytest.raises(OSError):
            cache.put(clip_key(2), clip_audio(2))
        caplog.clear()
        fetched = asyncio.run(cache.get_or_create(clip_key(1), _make_one))
        assert (fetched.audio, fetched.hit, fetched.clip) == (clip_audio(1), False, None)
        [error] = _errors(caplog)
        assert "could not store clip" in error.getMessage()
        assert error.exc_info is None  # one line, no traceback
        assert cache.stats().write_errors == 2
    assert clip_files(tmp_path) == []


@pytest.fixture
def full_disk(monkeypatch: pytest.MonkeyPatch) -> Callable[[str], None]:
    """Make ``os.write`` (to our temp files) or ``os.replace`` (of audio) fail with ENOSPC."""
    real_write, real_replace = os.write, os.replace

    def write(fd: int, data: Any) -> int:
        if os.readlink(f"/proc/self/fd/{fd}").endswith(".tmp"):
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        return real_write(fd, data)

    def replace(src: Any, dst: Any) -> None:
        if str(dst).endswith(".mp3"):
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        real_replace(src, dst)

    def fail(where: str) -> None:
        if where == "write":
            monkeypatch.setattr(os, "write", write)
        else:
            monkeypatch.setattr(os, "replace", replace)

    return fail


@pytest.mark.skipif(not Path("/proc/self/fd").is_dir(), reason="needs /proc to find our fds")
@pytest.mark.parametrize("where", ["write", "replace"])
def test_a_full_disk_still_returns_audio_and_leaves_nothing(
    tmp_path: Path, caplog: pytest.LogCaptureFixture, full_disk: Callable[[str], None],
    where: str,
) -> None:
    with DiskCache(tmp_path) as cache:
        full_disk(where)

        async def main() -> list[Fetched]:
            return await asyncio.gather(*(cache.get_or_create(clip_key(1), _make_one)
                                          for _ in range(5)))

        results = asyncio.run(main())
        assert all(r.audio == clip_audio(1) and r.clip is None for r in results)
        [error] = _errors(caplog)
        assert "No space left on device" in error.getMessage()
        assert cache.get(clip_key(1)) is None
        assert cache.stats().clips == 0
    assert clip_files(tmp_path) == []


# ---------------------------------------------------------------- the fast read path


def test_read_checks_a_clip_once_then_trusts_it_while_the_file_is_unchanged(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import reader.cache as cache_module

    cache = DiskCache(tmp_path)
    key = clip_key(7)
    audio = clip_audio(7)
    data = audio.data
    cache.put(key, audio)
    engine = audio.engine
    assert cache.read(key) == (data, engine)
    checks = 0
    real = cache_module._matches

    def counting(*args: Any) -> bool:
        nonlocal checks
        checks += 1
        return bool(real(*args))

    monkeypatch.setattr(cache_module, "_matches", counting)
    for _ in range(5):
        assert cache.read(key) == (data, engine)
    assert checks == 0  # trusted: no hashing on repeat hits
    # A file that changes under us (truncated) is checked again, found corrupt, and missed.
    audio_path = next(tmp_path.rglob(f"{key}.mp3"))
    audio_path.write_bytes(data[: len(data) // 2])
    assert cache.read(key) is None
    assert checks == 1
    cache.close()
