"""Content-addressed storage for synthesised clips.

Every sentence's audio is stored under ``cache_key()``: a hash of everything that decides how
it sounds (engine, engine revision, voice, prosody, the spoken text, the lexicon entries that
fired). Nothing is synthesised twice, and a change to any input, or a bumped engine revision,
is a different key, so nothing stale is served.

Layout under the cache root::

    clips/ab/cd/<key>.mp3    the MP3 bytes, exactly as the engine produced them
    clips/ab/cd/<key>.json   the clip's record: size, sha256, duration, boundaries, engine, voice
    index.sqlite             size accounting, last access and pins (WAL mode; rebuilt if lost)

The files are the truth; the index is derived from them and can be rebuilt (``rebuild_index()``;
pins live only in the index and are lost with it, so callers pin at start-up).

Invariants, and how they hold:

* No partial file is ever visible: each file is written to a temp file in its own folder,
  flushed, fsynced and ``os.replace``d, then the folder is fsynced.
* No audio without its record: the JSON record becomes visible (and durable) *before* the audio.
  A reader checks the audio's size and sha256 against the record on every hit; a mismatch is a
  miss and both files are removed. So a crash, a torn overwrite or a flipped bit costs one
  re-synthesis, never bad audio.
* Start-up removes temp files left by a dead writer, and records or audio left alone by one.
* A hit never writes SQLite: last-access times are kept in memory and flushed in one batch
  every ``flush_every`` hits or ``flush_seconds`` seconds, before each eviction and on close.
  An LRU order that lags by a few seconds is fine; a 1 ms hit budget is not.

``get_or_create()`` adds single-flight on top: concurrent callers for one key share one
``make()``, which runs as its own task so a cancelled caller does not cancel it for the rest.
If the cache folder is full or unwritable the audio is still returned and the failure logged.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import json
import logging
import os
import re
import secrets
import sqlite3
import threading
import time
from collections.abc import Awaitable, Callable, Iterable, Iterator
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any, Generic, TypeVar

from reader.database import transaction
from reader.errors import BadCacheKey, CacheError
from reader.types import Audio, Boundary

log = logging.getLogger(__name__)

#: Enters every key. Bump it only to orphan every stored clip on purpose (a new encoding,
#: a new field); the pinned literal in the tests says when it changed.
KEY_SCHEME = 1
#: Version of the JSON record beside each clip. Records of another version read as misses.
RECORD_FORMAT = 1

CLIPS = "clips"
INDEX = "index.sqlite"
AUDIO_SUFFIX = ".mp3"
RECORD_SUFFIX = ".json"
TEMP_SUFFIX = ".tmp"
#: A temp file or a lone record/audio file this old is debris even if its writer's pid is
#: alive (pids are reused, and other containers' pids mean nothing here). Real writes take ms.
STALE_AFTER_S = 600.0

_KEY = re.compile(r"[0-9a-f]{64}")  # sha256 hex, lowercase: the only thing that reaches a path
_SHARD = re.compile(r"[0-9a-f]{2}")
# Temp names are "<final name>.<pid>.<random>.tmp", so start-up can tell whose they are.
_TEMP = re.compile(r".+\.(?P<pid>\d+)\.[0-9a-f]+\.tmp")


# ---------------------------------------------------------------- keys


def cache_key(
    *,
    engine: str,
    revision: str,
    voice: str,
    prosody: str,
    speak: str,
    lexicon: tuple[tuple[str, str], ...],
) -> str:
    """The key of the clip these inputs produce: sha256 hex of a canonical JSON encoding.

    This function should not change: a different encoding orphans every stored clip. To change
    it on purpose, bump ``KEY_SCHEME`` and the pinned literal in the tests together.
    ``voice`` is the engine's voice name, ``prosody`` is ``Prosody.key()``, ``lexicon`` the
    (word, say) entries the segment used, in order.
    """
    fields: dict[str, object] = {
        "engine": engine,
        "revision": revision,
        "voice": voice,
        "prosody": prosody,
        "speak": speak,
    }
    for name, value in fields.items():
        _require_text(name, value)
    for word, say in lexicon:
        _require_text("lexicon", word)
        _require_text("lexicon", say)
    fields["lexicon"] = [[word, say] for word, say in lexicon]
    fields["scheme"] = KEY_SCHEME
    # JSON quotes and escapes every string, so no field can bleed into the next.
    text = json.dumps(fields, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
    # surrogatepass: a lone surrogate from a badly decoded page still gets a stable key.
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()


def derived_key(kind: str, parts: Iterable[str]) -> str:
    """The key of an output made from other things (the whole-article MP3 from its clips'
    keys and its tags): sha256 hex of ``kind`` and ``parts``, in a namespace clips cannot hit
    (their JSON has other fields)."""
    text = json.dumps({"derived": kind, "parts": list(parts), "scheme": KEY_SCHEME},
                      ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()


def _require_text(name: str, value: object) -> None:
    """1 and "1" encode differently: a non-str field is a bug to report, not a key to hash."""
    if not isinstance(value, str):
        raise TypeError(f"cache_key: {name} must be str, not {type(value).__name__}")


def check_key(key: object) -> str:
    """``key`` if it is 64 lowercase hex characters, else ``BadCacheKey``."""
    if isinstance(key, str) and _KEY.fullmatch(key):
        return key
    shown = repr(key)
    shown = shown if len(shown) <= 80 else shown[:77] + "..."
    raise BadCacheKey(f"not a clip key: {shown} (expected 64 lowercase hex characters)")


def _check_keys(keys: Iterable[str]) -> list[str]:
    """All of ``keys`` checked, before any of them is used."""
    return [check_key(key) for key in keys]


# ---------------------------------------------------------------- values


@dataclass(frozen=True, slots=True)
class CachedClip:
    """A stored clip, checked against its record."""

    key: str  # the clip's key
    audio: Audio  # bytes, duration, engine, voice and boundaries
    path: Path  # the MP3 file, for streaming or Range requests (may be evicted later)
    sha256: str  # hex digest of ``audio.data``
    created: float  # when it was stored, in the cache clock's seconds


@dataclass(frozen=True, slots=True)
class Fetched:
    """What ``get_or_create()`` hands every caller."""

    audio: Audio  # the clip, from the cache or just made
    hit: bool  # True when it came from storage and ``make()`` was not called
    clip: CachedClip | None  # the stored clip; None when storing it failed (logged)


@dataclass(frozen=True, slots=True)
class CacheStats:
    """Counts for health checks and metrics. Hits to evictions count since this object opened."""

    clips: int  # clips in the index
    bytes: int  # their size on disk, records included
    pinned: int  # stored clips that eviction must skip
    hits: int  # lookups answered from storage
    misses: int  # lookups that found nothing usable (corrupt clips included)
    evictions: int  # clips removed to stay under the size cap
    write_errors: int  # puts that failed (full disk, unwritable folder)


@dataclass(frozen=True, slots=True)
class _Record:
    """The JSON record beside a clip: everything needed to rebuild ``Audio`` and check it."""

    key: str
    size: int
    sha256: str
    duration_ms: float
    engine: str
    voice: str
    boundaries: tuple[Boundary, ...]
    created: float

    @classmethod
    def of(cls, key: str, audio: Audio, created: float) -> _Record:
        """The record for ``audio`` stored now."""
        digest = hashlib.sha256(audio.data).hexdigest()
        return cls(key, len(audio.data), digest, audio.duration_ms, audio.engine, audio.voice,
                   audio.boundaries, created)

    def to_json(self) -> bytes:
        """Compact UTF-8 JSON; boundaries as objects so a person can read the file."""
        body = {
            "format": RECORD_FORMAT,
            "key": self.key,
            "size": self.size,
            "sha256": self.sha256,
            "duration_ms": self.duration_ms,
            "engine": self.engine,
            "voice": self.voice,
            "created": self.created,
            "boundaries": [
                {"kind": b.kind, "text": b.text, "offset_ms": b.offset_ms,
                 "duration_ms": b.duration_ms}
                for b in self.boundaries
            ],
        }
        return json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode("utf-8")

    @classmethod
    def from_json(cls, raw: bytes) -> _Record:
        """Parse a record; ``ValueError`` for anything malformed, so it reads as corrupt."""
        try:
            body = json.loads(raw)
            if body["format"] != RECORD_FORMAT:
                raise ValueError(f"record format {body['format']!r}")
            return cls(
                key=_typed(body["key"], str),
                size=_typed(body["size"], int),
                sha256=_typed(body["sha256"], str),
                duration_ms=float(_typed(body["duration_ms"], (int, float))),
                engine=_typed(body["engine"], str),
                voice=_typed(body["voice"], str),
                boundaries=tuple(_boundary(item) for item in body["boundaries"]),
                created=float(_typed(body["created"], (int, float))),
            )
        except (KeyError, TypeError, UnicodeDecodeError) as exc:  # JSONDecodeError is ValueError
            raise ValueError(f"malformed clip record: {exc!r}") from exc

    def audio(self, data: bytes) -> Audio:
        """The ``Audio`` these bytes and this record make."""
        return Audio(data, self.duration_ms, self.engine, self.voice, self.boundaries)


def _typed(value: Any, kind: type | tuple[type, ...]) -> Any:
    """``value`` if it is a ``kind`` (bools are not numbers here), else ``TypeError``."""
    if isinstance(value, bool) or not isinstance(value, kind):
        raise TypeError(f"unexpected {type(value).__name__} in clip record")
    return value


def _boundary(item: Any) -> Boundary:
    return Boundary(
        kind=_typed(item["kind"], str),
        text=_typed(item["text"], str),
        offset_ms=float(_typed(item["offset_ms"], (int, float))),
        duration_ms=float(_typed(item["duration_ms"], (int, float))),
    )


# ---------------------------------------------------------------- files


def write_atomic(path: str | os.PathLike[str], data: bytes) -> None:
    """Write ``path`` so that it is either absent, the old file, or all of ``data``.

    The temp file sits in the same folder (same filesystem, so ``os.replace`` is atomic) and is
    removed if anything fails. The caller fsyncs the folder to make the rename durable.
    """
    temp = f"{os.fspath(path)}.{os.getpid()}.{secrets.token_hex(4)}{TEMP_SUFFIX}"
    fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
    try:
        try:
            view = memoryview(data)
            while view:
                view = view[os.write(fd, view):]
            os.fsync(fd)
        finally:
            os.close(fd)
        os.replace(temp, path)
    except BaseException:
        _unlink_quietly(temp)
        raise


def _fsync_dir(path: str) -> None:
    """Make renames and new entries in folder ``path`` durable."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _make_dirs(path: str, stop: str) -> None:
    """Create ``path`` and its missing parents up to ``stop``, fsyncing each parent."""
    if path == stop or os.path.isdir(path):
        return
    parent = os.path.dirname(path)
    _make_dirs(parent, stop)
    try:
        os.mkdir(path)
    except FileExistsError:
        return  # a concurrent writer made it (or a file is in the way: the write will say so)
    _fsync_dir(parent)


def _read(path: str) -> bytes | None:
    """The file's bytes, or None if it is not there."""
    try:
        with open(path, "rb", buffering=0) as file:
            return file.readall()
    except FileNotFoundError:
        return None


def _unlink_quietly(path: str) -> None:
    """Remove a file if it is there; cleanup must not hide the error that caused it."""
    with contextlib.suppress(OSError):
        os.unlink(path)


def _pid_alive(pid: int) -> bool:
    """True if a process with this pid exists (it may be someone else's: callers also age-check)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    except OSError:
        return False
    return True


def _is_debris(name: str, mtime: float, now: float) -> bool:
    """Is this temp file left over by a writer that is gone?"""
    if now - mtime >= STALE_AFTER_S:
        return True
    match = _TEMP.fullmatch(name)
    return match is None or not _pid_alive(int(match["pid"]))


def _mtime(path: str) -> float | None:
    try:
        return os.stat(path).st_mtime
    except OSError:
        return None


#: Clips remembered as checked by ``DiskCache.read`` (about 150 bytes each).
VERIFIED_MEMORY = 100_000


@dataclass(frozen=True, slots=True)
class _Verified:
    """A clip whose bytes were checked against its record, and the file it was then."""

    size: int
    mtime_ns: int
    engine: str
    created: float
    record_size: int


def _read_if_unchanged(path: str, size: int, mtime_ns: int) -> bytes | None:
    """The file's bytes if it still has this size and modification time, else None."""
    try:
        with open(path, "rb") as handle:
            stat = os.fstat(handle.fileno())
            if stat.st_size != size or stat.st_mtime_ns != mtime_ns:
                return None
            data = handle.read()
    except OSError:
        return None
    return data if len(data) == size else None


def _record_size(path: str) -> int:
    try:
        return os.stat(path).st_size
    except OSError:
        return 0


@dataclass(frozen=True, slots=True)
class _Row:
    """One clip as the index sees it."""

    key: str
    size: int  # audio and record, in bytes
    created: float
    accessed: float


# ---------------------------------------------------------------- single-flight

T = TypeVar("T")


class SingleFlight(Generic[T]):
    """At most one running task per key; every caller for that key awaits the same task.

    The work runs as its own task and callers wait through ``asyncio.shield``, so cancelling one
    caller (a client hanging up) does not cancel the work for the others, and its result is
    still stored. The entry is removed when the task ends, however it ends, so a failure is
    delivered to everyone waiting and the next call tries again.
    """

    def __init__(self) -> None:
        self._tasks: dict[str, asyncio.Future[T]] = {}

    def __len__(self) -> int:
        return len(self._tasks)

    async def run(self, key: str, work: Callable[[], Awaitable[T]]) -> T:
        """The result of ``work()``, started now or already running under ``key``."""
        task = self._tasks.get(key)
        if task is None:
            task = asyncio.ensure_future(work())
            self._tasks[key] = task
            # Registered before any caller's shield, so it runs before any caller resumes:
            # nobody can join a task that has already failed.
            task.add_done_callback(partial(self._done, key))
        return await asyncio.shield(task)

    async def wait(self) -> None:
        """Wait for every running task, whatever their outcome."""
        while self._tasks:
            await asyncio.gather(*self._tasks.values(), return_exceptions=True)

    def _done(self, key: str, task: asyncio.Future[T]) -> None:
        if self._tasks.get(key) is task:
            del self._tasks[key]
        if not task.cancelled():
            task.exception()  # retrieved: no "never retrieved" noise if every caller left


# ---------------------------------------------------------------- the cache

_SCHEMA = """
CREATE TABLE IF NOT EXISTS clips (
    key TEXT PRIMARY KEY,
    size INTEGER NOT NULL,
    created REAL NOT NULL,
    accessed REAL NOT NULL
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS clips_by_access ON clips (accessed);
CREATE TABLE IF NOT EXISTS pins (key TEXT PRIMARY KEY) WITHOUT ROWID;
"""

# Pins are their own table: a key can be pinned before its clip exists, and a pin survives the
# clip being removed as corrupt and made again.
_EVICTABLE = """
SELECT key, size FROM clips WHERE key NOT IN (SELECT key FROM pins) AND key != ?
ORDER BY accessed, key LIMIT 64
"""

_TOUCH = """
INSERT INTO clips (key, size, created, accessed) VALUES (?, ?, ?, ?)
ON CONFLICT (key) DO UPDATE SET accessed = max(accessed, excluded.accessed)
"""


class DiskCache:
    """Clips on disk under ``root``, with an SQLite index, a size cap and pins.

    Safe to share between threads (the async API runs its file work in threads) and between
    processes on one machine (atomic renames, SQLite WAL). Single-flight is per process.
    """

    def __init__(
        self,
        root: Path | str,
        *,
        max_bytes: int | None = None,
        clock: Callable[[], float] = time.time,
        flush_every: int = 256,
        flush_seconds: float = 30.0,
    ) -> None:
        """Open (or create) the cache at ``root``; ``CacheError`` if the folder cannot be used.

        Start-up removes debris from crashed writers and rebuilds the index if it is missing
        or corrupt. ``max_bytes`` caps audio and records together (None: no cap); ``clock``
        stamps creation and access for LRU order.
        """
        if max_bytes is not None and max_bytes <= 0:
            raise ValueError(f"max_bytes must be positive, not {max_bytes}")
        self.root = Path(root)
        self.max_bytes = max_bytes
        self._clock = clock
        self._flush_every = flush_every
        self._flush_seconds = flush_seconds
        self._root = os.fspath(self.root)
        self._clips = os.path.join(self._root, CLIPS)
        self._db_lock = threading.Lock()  # the connection is shared by the worker threads
        self._mem_lock = threading.Lock()  # counters and pending access times
        self._touched: dict[str, _Row] = {}
        self._verified: dict[str, _Verified] = {}  # see read()
        self._last_flush = clock()
        self._counts = {"hits": 0, "misses": 0, "evictions": 0, "write_errors": 0}
        self._flights: SingleFlight[Fetched] = SingleFlight()
        try:
            os.makedirs(self._clips, exist_ok=True)
        except OSError as exc:
            raise CacheError(f"cannot use cache folder {self._root}: {exc}") from exc
        self._db: sqlite3.Connection | None = None
        try:
            self._start()
        except (OSError, sqlite3.Error) as exc:
            self.close()
            raise CacheError(f"cannot use cache folder {self._root}: {exc}") from exc

    def _start(self) -> None:
        """Open the index, sweep debris, and rebuild the index if it was missing or corrupt."""
        fresh = self._open_index()
        rows = self._sweep(collect=fresh)
        if fresh:
            self._replace_rows(rows)

    def __repr__(self) -> str:
        return f"<DiskCache {self._root} max_bytes={self.max_bytes}>"

    def __enter__(self) -> DiskCache:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # ------------------------------------------------------------ reads

    def get(self, key: str) -> CachedClip | None:
        """The stored clip, checked against its record; None on a miss.

        A clip whose bytes do not match its record (truncated, bit-flipped, torn) is a miss
        and its files are removed. Read errors are logged and read as misses.
        """
        check_key(key)
        self._connection()  # a closed cache says so, rather than half-working
        audio_path, record_path = self._paths(key)
        try:
            found = self._load(key, audio_path, record_path)
        except OSError as exc:
            log.warning("cache: cannot read clip %s: %s", key[:12], exc)
            found = None
        if found is None:
            self._count("misses")
            return None
        clip, size = found
        self._touch(_Row(key, size, clip.created, self._clock()))
        return clip

    def read(self, key: str) -> tuple[bytes, str] | None:
        """A hit's bytes and the engine that made them, on the fast path HTTP serving takes.

        The first read of a clip is a full ``get()`` (record parsed, bytes hashed against it).
        After that the clip is trusted while its file keeps the size and modification time it
        had when it was checked: writes are atomic renames, so a changed file is a new file,
        and a truncated one has another size. Saves parsing and hashing on every hit.
        """
        check_key(key)
        audio_path, _ = self._paths(key)
        known = self._verified.get(key)
        if known is not None:
            data = _read_if_unchanged(audio_path, known.size, known.mtime_ns)
            if data is not None:
                self._touch(_Row(key, known.size + known.record_size, known.created,
                                 self._clock()))
                return data, known.engine
            self._verified.pop(key, None)
        clip = self.get(key)
        if clip is None:
            return None
        try:
            stat = os.stat(audio_path)
        except OSError:
            return clip.audio.data, clip.audio.engine
        if len(self._verified) >= VERIFIED_MEMORY:
            self._verified.pop(next(iter(self._verified)))  # oldest first: bounded memory
        self._verified[key] = _Verified(stat.st_size, stat.st_mtime_ns, clip.audio.engine,
                                        clip.created, _record_size(self._paths(key)[1]))
        return clip.audio.data, clip.audio.engine

    def _load(
        self, key: str, audio_path: str, record_path: str
    ) -> tuple[CachedClip, int] | None:
        """Read the record, then the audio, and check one against the other.

        Returns the clip and its size on disk (audio and record), or None.
        """
        raw = _read(record_path)
        data = _read(audio_path) if raw is not None else None
        if raw is None or data is None:
            return None  # absent, or mid-write by another writer: not ours to clean
        try:
            record = _Record.from_json(raw)
        except ValueError:
            record = None
        if record is None or not _matches(record, key, data):
            log.warning("cache: clip %s is corrupt; removed", key[:12])
            self._discard(key, audio_path, record_path)
            return None
        clip = CachedClip(key, record.audio(data), Path(audio_path), record.sha256, record.created)
        return clip, len(data) + len(raw)

    # ------------------------------------------------------------ writes

    def put(self, key: str, audio: Audio, *, pin: bool = False) -> CachedClip:
        """Store ``audio`` under ``key`` (replacing any clip there), then keep under the cap.

        Raises ``OSError`` (full disk, unwritable folder) or ``CacheError`` (index unusable);
        either way nothing is left half-written and no clip is stored.
        """
        check_key(key)
        self._connection()  # fail before writing if closed
        record = _Record.of(key, audio, self._clock())
        body = record.to_json()
        audio_path, record_path = self._paths(key)
        try:
            self._write_clip(audio_path, record_path, audio.data, body)
        except OSError:
            self._count("write_errors")
            self._discard(key, audio_path, record_path)
            raise
        row = _Row(key, len(audio.data) + len(body), record.created, record.created)
        try:
            self._index_put(row, pin)
        except sqlite3.Error as exc:
            self._count("write_errors")
            self._discard(key, audio_path, record_path)
            raise CacheError(f"cannot update cache index {self._index_path}: {exc}") from exc
        self._enforce_cap(keep=key)
        return CachedClip(key, audio, Path(audio_path), record.sha256, record.created)

    def _write_clip(self, audio_path: str, record_path: str, data: bytes, body: bytes) -> None:
        """Record first, then audio, each durable before the next: never audio without record."""
        folder = os.path.dirname(audio_path)
        _make_dirs(folder, self._root)
        write_atomic(record_path, body)
        _fsync_dir(folder)
        write_atomic(audio_path, data)
        _fsync_dir(folder)

    def _index_put(self, row: _Row, pin: bool) -> None:
        with self._transaction() as db:
            db.execute("INSERT OR REPLACE INTO clips VALUES (?, ?, ?, ?)",
                       (row.key, row.size, row.created, row.accessed))
            if pin:
                db.execute("INSERT OR IGNORE INTO pins VALUES (?)", (row.key,))

    # ------------------------------------------------------------ pins and eviction

    def pin(self, keys: Iterable[str]) -> None:
        """Keep these clips (present or future) out of eviction until unpinned."""
        checked = _check_keys(keys)
        with self._transaction() as db:
            db.executemany("INSERT OR IGNORE INTO pins VALUES (?)", [(k,) for k in checked])

    def unpin(self, keys: Iterable[str]) -> None:
        """Make these clips evictable again, and evict now if the cache is over its cap."""
        checked = _check_keys(keys)
        with self._transaction() as db:
            db.executemany("DELETE FROM pins WHERE key = ?", [(k,) for k in checked])
        self._enforce_cap(keep="")

    def _enforce_cap(self, keep: str) -> None:
        """Evict least-recently-used unpinned clips until under the cap (never ``keep``).

        Eviction trouble is logged, not raised: the clip that was just stored is fine.
        """
        if self.max_bytes is None:
            return
        try:
            self.flush()
            while (excess := self._total_bytes() - self.max_bytes) > 0:
                victims = self._victims(keep, excess)
                if not victims:
                    return  # the rest is pinned (or just stored): over the cap, on purpose
                self._evict(victims)
        except (sqlite3.Error, CacheError) as exc:
            log.warning("cache: eviction failed: %s", exc)

    def _victims(self, keep: str, excess: int) -> list[str]:
        chosen: list[str] = []
        with self._db_lock:
            for key, size in self._connection().execute(_EVICTABLE, (keep,)):
                chosen.append(key)
                excess -= size
                if excess <= 0:
                    break
        return chosen

    def _evict(self, keys: list[str]) -> None:
        for key in keys:
            audio_path, record_path = self._paths(key)
            _unlink_quietly(audio_path)  # audio first: never audio without its record
            _unlink_quietly(record_path)
        with self._transaction() as db:
            db.executemany("DELETE FROM clips WHERE key = ?", [(k,) for k in keys])
        self._count("evictions", len(keys))

    def _discard(self, key: str, audio_path: str, record_path: str) -> None:
        """Remove a clip's files and index row (a corrupt clip, or a failed put), quietly:
        the error that led here is the one worth reporting."""
        _unlink_quietly(audio_path)
        _unlink_quietly(record_path)
        try:
            with self._transaction() as db:
                db.execute("DELETE FROM clips WHERE key = ?", (key,))
        except (sqlite3.Error, CacheError) as exc:
            log.warning("cache: cannot drop %s from the index: %s", key[:12], exc)

    # ------------------------------------------------------------ access times

    def _touch(self, row: _Row) -> None:
        """Count a hit and note its access time in memory; flush in batches."""
        with self._mem_lock:
            self._counts["hits"] += 1
            self._touched[row.key] = row
            due = (len(self._touched) >= self._flush_every
                   or row.accessed - self._last_flush >= self._flush_seconds)
        if due:
            try:
                self.flush()
            except (sqlite3.Error, CacheError) as exc:
                log.warning("cache: cannot record access times: %s", exc)

    def flush(self) -> None:
        """Write pending last-access times to the index in one transaction.

        An upsert, so a clip the index had lost (files present, row missing) is counted again.
        """
        with self._mem_lock:
            rows, self._touched = list(self._touched.values()), {}
            self._last_flush = self._clock()
        if rows:
            with self._transaction() as db:
                db.executemany(_TOUCH, [(r.key, r.size, r.created, r.accessed) for r in rows])

    # ------------------------------------------------------------ single-flight

    async def get_or_create(
        self, key: str, make: Callable[[], Awaitable[Audio]], *, pin: bool = False
    ) -> Fetched:
        """The clip for ``key``: from storage, or made once by ``make()`` and stored.

        Any number of concurrent callers for one key share one lookup and at most one
        ``make()``. If ``make()`` raises, every waiter gets the error and nothing is stored.
        If storing fails (full disk, unwritable folder) the audio is still returned, with
        ``clip=None``, and one line is logged. ``pin`` pins the clip, found or made.
        """
        check_key(key)
        return await self._flights.run(key, partial(self._fetch, key, make, pin))

    async def _fetch(self, key: str, make: Callable[[], Awaitable[Audio]], pin: bool) -> Fetched:
        clip = await asyncio.to_thread(self.get, key)
        if clip is not None:
            if pin:
                await asyncio.to_thread(self._pin_quietly, key)
            return Fetched(clip.audio, hit=True, clip=clip)
        audio = await make()
        return Fetched(audio, hit=False, clip=await asyncio.to_thread(self.store, key, audio, pin))

    def store(self, key: str, audio: Audio, pin: bool = False) -> CachedClip | None:
        """``put()``, with failure logged on one line instead of raised: audio comes first."""
        try:
            return self.put(key, audio, pin=pin)
        except (OSError, CacheError) as exc:
            log.error("cache: could not store clip %s, serving it uncached: %s", key[:12], exc)
            return None

    def _pin_quietly(self, key: str) -> None:
        try:
            self.pin([key])
        except (sqlite3.Error, CacheError) as exc:
            log.warning("cache: cannot pin %s: %s", key[:12], exc)

    # ------------------------------------------------------------ index upkeep

    def rebuild_index(self) -> int:
        """Re-create the index's clip rows from the files on disk; returns the clip count.

        Pins are kept. Access order restarts from the audio files' modification times.
        """
        self.flush()
        rows = self._sweep(collect=True)
        self._replace_rows(rows)
        return len(rows)

    def stats(self) -> CacheStats:
        """Clip, byte and pin counts from the index, with this process's hit counters."""
        with self._db_lock:
            db = self._connection()
            clips, size = db.execute(
                "SELECT count(*), coalesce(sum(size), 0) FROM clips").fetchone()
            pinned = db.execute(
                "SELECT count(*) FROM clips JOIN pins USING (key)").fetchone()[0]
        with self._mem_lock:
            counts = dict(self._counts)
        return CacheStats(clips, size, pinned, **counts)

    def close(self) -> None:
        """Flush access times and close the index. Safe to call twice."""
        if self._db is None:
            return
        try:
            self.flush()
        except sqlite3.Error as exc:
            log.warning("cache: cannot record access times: %s", exc)
        with self._db_lock:
            db, self._db = self._db, None
            if db is not None:
                db.close()

    async def aclose(self) -> None:
        """Let clips being made finish (and be stored), then ``close()``."""
        await self._flights.wait()
        await asyncio.to_thread(self.close)

    # ------------------------------------------------------------ internals

    @property
    def _index_path(self) -> str:
        return os.path.join(self._root, INDEX)

    def _paths(self, key: str) -> tuple[str, str]:
        """Audio and record paths: ``clips/ab/cd/<key>.mp3`` and ``.json``. Key already checked."""
        stem = os.path.join(self._clips, key[:2], key[2:4], key)
        return stem + AUDIO_SUFFIX, stem + RECORD_SUFFIX

    def _count(self, name: str, n: int = 1) -> None:
        with self._mem_lock:
            self._counts[name] += n

    def _connection(self) -> sqlite3.Connection:
        if self._db is None:
            raise CacheError(f"the cache at {self._root} is closed")
        return self._db

    @contextlib.contextmanager
    def _transaction(self) -> Iterator[sqlite3.Connection]:
        """One write transaction on the shared connection, under the lock."""
        with self._db_lock, transaction(self._connection()) as db:
            yield db

    def _open_index(self) -> bool:
        """Connect to the index; True if it is new (missing, or replaced because corrupt)."""
        fresh = not os.path.exists(self._index_path)
        try:
            self._db = self._connect()
        except sqlite3.DatabaseError as exc:
            log.warning("cache: index %s is unusable (%s); rebuilding it", self._index_path, exc)
            for suffix in ("", "-wal", "-shm"):
                _unlink_quietly(self._index_path + suffix)
            fresh = True
            try:
                self._db = self._connect()
            except sqlite3.Error as again:
                raise CacheError(f"cannot open cache index {self._index_path}: {again}") from again
        return fresh

    def _connect(self) -> sqlite3.Connection:
        db = sqlite3.connect(self._index_path, timeout=10.0, isolation_level=None,
                             check_same_thread=False)
        try:
            db.execute("PRAGMA journal_mode=WAL")
            # The index is derived data: losing the last commits on power loss costs a rebuild
            # at worst, so skip the fsync per commit.
            db.execute("PRAGMA synchronous=NORMAL")
            if db.execute("PRAGMA quick_check").fetchone()[0] != "ok":
                raise sqlite3.DatabaseError("quick_check failed")
            db.executescript(_SCHEMA)
        except BaseException:
            db.close()
            raise
        return db

    def _replace_rows(self, rows: list[_Row]) -> None:
        with self._transaction() as db:
            db.execute("DELETE FROM clips")
            db.executemany("INSERT INTO clips VALUES (?, ?, ?, ?)",
                           [(r.key, r.size, r.created, r.accessed) for r in rows])

    def _total_bytes(self) -> int:
        with self._db_lock:
            total: int = self._connection().execute(
                "SELECT coalesce(sum(size), 0) FROM clips").fetchone()[0]
        return total

    def _sweep(self, *, collect: bool) -> list[_Row]:
        """Remove debris under ``clips/``; with ``collect``, the complete clips found."""
        rows: list[_Row] = []
        now = time.time()  # file ages are wall-clock, whatever the cache clock says
        for top in _shard_dirs(self._clips):
            for folder in _shard_dirs(top):
                rows.extend(_sweep_folder(folder, now, collect))
        return rows


def _matches(record: _Record, key: str, data: bytes) -> bool:
    """Does ``data`` fit its record? Size first: it is free and catches truncation."""
    return (record.key == key and record.size == len(data)
            and hashlib.sha256(data).hexdigest() == record.sha256)


def _shard_dirs(folder: str) -> list[str]:
    """The two-hex-character subfolders of ``folder``; anything else there is not ours."""
    try:
        with os.scandir(folder) as entries:
            return [e.path for e in entries if _SHARD.fullmatch(e.name) and e.is_dir()]
    except OSError:
        return []


def _sweep_folder(folder: str, now: float, collect: bool) -> list[_Row]:
    """Remove dead writers' temp files and stale lone halves; list complete clips if asked."""
    audio: set[str] = set()
    records: set[str] = set()
    for name in os.listdir(folder):
        path = os.path.join(folder, name)
        stem, suffix = os.path.splitext(name)
        if suffix == TEMP_SUFFIX:
            mtime = _mtime(path)
            if mtime is not None and _is_debris(name, mtime, now):
                _unlink_quietly(path)
        elif _KEY.fullmatch(stem) and suffix == AUDIO_SUFFIX:
            audio.add(stem)
        elif _KEY.fullmatch(stem) and suffix == RECORD_SUFFIX:
            records.add(stem)
    for key in audio ^ records:  # a record whose audio never landed, or audio that lost its record
        path = os.path.join(folder, key + (AUDIO_SUFFIX if key in audio else RECORD_SUFFIX))
        mtime = _mtime(path)
        if mtime is not None and now - mtime >= STALE_AFTER_S:
            _unlink_quietly(path)
    return [row for key in sorted(audio & records) if (row := _row(folder, key))] if collect else []


def _row(folder: str, key: str) -> _Row | None:
    """An index row from a clip's files (None if they vanished meanwhile)."""
    try:
        audio = os.stat(os.path.join(folder, key + AUDIO_SUFFIX))
        record = os.stat(os.path.join(folder, key + RECORD_SUFFIX))
    except OSError:
        return None
    return _Row(key, audio.st_size + record.st_size, record.st_mtime, audio.st_mtime)
