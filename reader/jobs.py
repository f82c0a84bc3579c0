"""Pre-generation jobs for a CMS: ``POST /api/v1/jobs``, their progress, cancellation.

A job is a batch (``reader.batch``) whose request and per-article progress live in SQLite
(``jobs.sqlite`` in the cache folder), so a job survives a restart of the service: at start-up
every job that was queued or running is taken up again, and articles it had finished are not
read again. Jobs run one after another, each with its own bounded concurrency, so a big batch
does not crowd out readers pressing play.
"""

from __future__ import annotations

import asyncio
import json
import logging
import threading
import time
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import Any

from reader.batch import FINISHED, Batch, BatchOptions, State, Tally
from reader.database import open_database, transaction
from reader.errors import LookupMiss, ReaderError
from reader.pipeline import checked_prosody
from reader.service import API, Service
from reader.sources import Problem, Source, SourceLimits, expand
from reader.types import Prosody

log = logging.getLogger(__name__)


class UnknownJob(LookupMiss):
    """No job with that id."""


class JobState(StrEnum):
    QUEUED = "queued"
    RUNNING = "running"
    DONE = "done"  # every article read, every clip from the primary voice
    FAILED = "failed"  # finished, but some input or article failed (see its articles)
    CANCELLED = "cancelled"


#: A job in one of these states is over; one in another is taken up again after a restart.
ENDED = frozenset({JobState.DONE, JobState.FAILED, JobState.CANCELLED})


@dataclass(frozen=True, slots=True)
class JobRequest:
    """What a CMS asks for: URLs (pages, sitemaps, feeds) and inline articles."""

    inputs: tuple[str, ...] = ()
    articles: tuple[Source, ...] = ()
    voice: str | None = None
    rate: int = 0
    pin: bool = True

    def to_json(self) -> str:
        return json.dumps({"inputs": list(self.inputs),
                           "articles": [a.to_json() for a in self.articles],
                           "voice": self.voice, "rate": self.rate, "pin": self.pin},
                          ensure_ascii=False)

    @classmethod
    def from_json(cls, text: str) -> JobRequest:
        data = json.loads(text)
        return cls(tuple(data["inputs"]), tuple(Source.from_json(a) for a in data["articles"]),
                   data["voice"], int(data["rate"]), bool(data["pin"]))


SCHEMA = """
CREATE TABLE IF NOT EXISTS jobs (
    id TEXT PRIMARY KEY,
    created REAL NOT NULL,
    updated REAL NOT NULL,
    state TEXT NOT NULL,
    request TEXT NOT NULL,
    expanded INTEGER NOT NULL DEFAULT 0,
    message TEXT
);
CREATE TABLE IF NOT EXISTS job_articles (
    job TEXT NOT NULL REFERENCES jobs(id) ON DELETE CASCADE,
    position INTEGER NOT NULL,
    source TEXT,
    tally TEXT NOT NULL,
    PRIMARY KEY (job, position)
);
"""


class JobStore:
    """Jobs and their articles' progress, in one SQLite file."""

    def __init__(self, path: Path) -> None:
        self._db = open_database(path, SCHEMA)
        self._lock = threading.Lock()
        self._closed = False
        self.path = path

    def create(self, request: JobRequest) -> str:
        ident = uuid.uuid4().hex
        now = time.time()
        with self._lock:
            self._db.execute("INSERT INTO jobs (id, created, updated, state, request)"
                             " VALUES (?, ?, ?, ?, ?)",
                             (ident, now, now, JobState.QUEUED.value, request.to_json()))
        return ident

    def request(self, ident: str) -> JobRequest:
        return JobRequest.from_json(self._row(ident)["request"])

    def state(self, ident: str) -> JobState:
        return JobState(self._row(ident)["state"])

    def set_state(self, ident: str, state: JobState, message: str | None = None) -> bool:
        """Move the job to ``state`` if it has not ended (a cancelled job stays cancelled,
        whatever its runner was doing). True if it moved."""
        with self._lock:
            cursor = self._db.execute(
                "UPDATE jobs SET state = ?, message = coalesce(?, message), updated = ?"
                " WHERE id = ? AND state NOT IN (?, ?, ?)",
                (state.value, message, time.time(), ident, *(s.value for s in ENDED)))
        return cursor.rowcount == 1

    def expanded(self, ident: str) -> bool:
        return bool(self._row(ident)["expanded"])

    def set_articles(self, ident: str, sources: Sequence[Source],
                     problems: Sequence[Problem]) -> None:
        """The job's articles, once its inputs are expanded: one row per source, and one
        failed row per input that gave none."""
        rows: list[tuple[str, int, str | None, str]] = []
        for source in sources:
            rows.append((ident, len(rows), json.dumps(source.to_json(), ensure_ascii=False),
                         json.dumps(Tally(source.label).to_json(), ensure_ascii=False)))
        for problem in problems:
            tally = Tally(problem.label, State.FAILED, error=problem.message)
            rows.append((ident, len(rows), None, json.dumps(tally.to_json(), ensure_ascii=False)))
        with self._lock, transaction(self._db) as db:
            db.execute("DELETE FROM job_articles WHERE job = ?", (ident,))
            db.executemany("INSERT INTO job_articles VALUES (?, ?, ?, ?)", rows)
            db.execute("UPDATE jobs SET expanded = 1, updated = ? WHERE id = ?",
                       (time.time(), ident))

    def articles(self, ident: str) -> list[tuple[int, Source | None, Tally]]:
        with self._lock:
            rows = self._db.execute("SELECT position, source, tally FROM job_articles"
                                    " WHERE job = ? ORDER BY position", (ident,)).fetchall()
        return [(int(position), None if source is None else Source.from_json(json.loads(source)),
                 Tally.from_json(json.loads(tally))) for position, source, tally in rows]

    def save(self, ident: str, tallies: Mapping[int, Mapping[str, object]]) -> None:
        """Write these articles' progress (position -> ``Tally.to_json()``) in one
        transaction. JSON, not tallies: the runner snapshots them on the event loop, where
        they change."""
        rows = [(json.dumps(t, ensure_ascii=False), ident, position)
                for position, t in tallies.items()]
        with self._lock, transaction(self._db) as db:
            db.executemany("UPDATE job_articles SET tally = ? WHERE job = ? AND position = ?",
                           rows)
            db.execute("UPDATE jobs SET updated = ? WHERE id = ?", (time.time(), ident))

    def unfinished(self) -> list[str]:
        """Jobs queued or running (when the service stopped), oldest first."""
        with self._lock:
            rows = self._db.execute("SELECT id FROM jobs WHERE state IN (?, ?) ORDER BY created",
                                    (JobState.QUEUED.value, JobState.RUNNING.value)).fetchall()
        return [str(row[0]) for row in rows]

    def recent(self, limit: int = 50) -> list[str]:
        with self._lock:
            rows = self._db.execute("SELECT id FROM jobs ORDER BY created DESC LIMIT ?",
                                    (limit,)).fetchall()
        return [str(row[0]) for row in rows]

    def status(self, ident: str) -> dict[str, Any]:
        """The job as the API shows it: state, totals, and every article's progress."""
        row = self._row(ident)
        request = JobRequest.from_json(row["request"])
        articles = self.articles(ident)
        tallies = [tally for _, _, tally in articles]
        base = f"{API}/jobs/{ident}"
        return {
            "id": ident, "state": row["state"], "created": _iso(row["created"]),
            "updated": _iso(row["updated"]), "message": row["message"],
            "voice": request.voice, "rate": request.rate, "pin": request.pin,
            "expanded": bool(row["expanded"]),
            "progress": _progress(tallies),
            "articles": [{"position": position, **tally.to_json(),
                          "manifest": f"{API}/articles/{tally.article}" if tally.article else None}
                         for position, _, tally in articles],
            "links": {"self": base, "events": f"{base}/events", "cancel": f"{base}/cancel",
                      "report": f"{base}/check.html"},
        }

    def _row(self, ident: str) -> Mapping[str, Any]:
        with self._lock:
            cursor = self._db.execute("SELECT * FROM jobs WHERE id = ?", (ident,))
            row = cursor.fetchone()
            names = [d[0] for d in cursor.description]
        if row is None:
            raise UnknownJob(f"no job {ident!r}; create one with POST {API}/jobs")
        return dict(zip(names, row, strict=True))

    @property
    def closed(self) -> bool:
        return self._closed

    def close(self) -> None:
        with self._lock:
            self._db.close()
            self._closed = True


def _progress(tallies: Sequence[Tally]) -> dict[str, int]:
    return {
        "articles": len(tallies),
        "finished": sum(t.state in FINISHED for t in tallies),
        "failed": sum(t.state in {State.FAILED, State.PARTIAL} for t in tallies),
        "segments": sum(t.segments for t in tallies),
        "spoken": sum(t.spoken for t in tallies),
        "new": sum(t.new for t in tallies),
        "reused": sum(t.reused for t in tallies),
        "fallback": sum(t.fallback for t in tallies),
        "audio_ms": round(sum(t.audio_ms for t in tallies)),
    }


def _iso(timestamp: float) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(timestamp))


#: Seconds between writes of a running job's progress to the store (and event-stream updates).
SAVE_EVERY = 0.25


class Jobs:
    """Runs jobs one at a time in the background; tells watchers when anything changes."""

    def __init__(self, service: Service, concurrency: int) -> None:
        self.service = service
        self.store = JobStore(service.settings.cache_dir / "jobs.sqlite")
        self.concurrency = concurrency
        self.stopping = asyncio.Event()  # set at shutdown: event streams end
        self._queue: asyncio.Queue[str] | None = None
        self._runner: asyncio.Task[None] | None = None
        self._current: tuple[str, asyncio.Task[None]] | None = None
        self._changed: dict[str, asyncio.Event] = {}
        self._saving = asyncio.Lock()
        self._cancelled: set[str] = set()  # cancelled while this process ran them

    def start(self) -> None:
        """Start the runner (idempotent) and take up the jobs a restart interrupted."""
        if self._runner is not None and not self._runner.done():
            return
        if self.store.closed:  # an app started again after a shutdown (tests do)
            self.store = JobStore(self.store.path)
        self.stopping.clear()
        self._queue = asyncio.Queue()
        for ident in self.store.unfinished():
            self._queue.put_nowait(ident)
        self._runner = asyncio.create_task(self._run_forever())

    async def stop(self) -> None:
        """Stop at shutdown: the job under way stays 'running' in the store, so the next
        start takes it up again."""
        self.stopping.set()
        if self._runner is not None:
            self._runner.cancel()
            await asyncio.gather(self._runner, return_exceptions=True)
            self._runner = None

    def close(self) -> None:
        self.store.close()

    # ------------------------------------------------------------ the API's side

    def submit(self, request: JobRequest) -> str:
        """Queue a job; ``UnknownVoice`` or ``BadProsody`` before anything is stored."""
        voice = self.service.speaker.voices.get(request.voice)
        checked_prosody(Prosody(rate=request.rate))
        ident = self.store.create(JobRequest(request.inputs, request.articles, voice.id,
                                             request.rate, request.pin))
        self.start()
        assert self._queue is not None
        self._queue.put_nowait(ident)
        return ident

    def cancel(self, ident: str) -> None:
        """Cancel a job (queued or running); a finished job stays as it ended."""
        if not self.store.set_state(ident, JobState.CANCELLED, "cancelled by request"):
            self.store.state(ident)  # UnknownJob for a wrong id; an ended job stays as it is
            return
        self._cancelled.add(ident)  # from now on, every save says so (see _save)
        self._mark_cancelled(ident)
        if self._current is not None and self._current[0] == ident:
            self._current[1].cancel()
        self._notify(ident)

    def watch(self, ident: str) -> asyncio.Event:
        """An event set at the job's next change: take it *before* reading the status, so a
        change between the read and the wait is not missed."""
        return self._changed.setdefault(ident, asyncio.Event())

    def _notify(self, ident: str) -> None:
        # Wake every watcher, and give the next ones a fresh event to wait on.
        if (event := self._changed.pop(ident, None)) is not None:
            event.set()

    # ------------------------------------------------------------ running

    async def _run_forever(self) -> None:
        assert self._queue is not None
        while True:
            ident = await self._queue.get()
            if await asyncio.to_thread(self.store.state, ident) in ENDED:
                continue  # cancelled while it waited
            task = asyncio.create_task(self._run(ident))
            self._current = (ident, task)
            try:
                await asyncio.wait({task})  # not cancelled when only the job is
            except asyncio.CancelledError:  # the service is stopping
                task.cancel()
                await asyncio.gather(task, return_exceptions=True)
                raise
            finally:
                self._current = None
            if not task.cancelled() and (error := task.exception()) is not None:
                log.error("job %s stopped by an error: %s", ident, error, exc_info=error)
                await asyncio.to_thread(self.store.set_state, ident, JobState.FAILED,
                                        f"internal error: {error}")
                self._notify(ident)

    async def _run(self, ident: str) -> None:
        store = self.store
        try:
            if not await asyncio.to_thread(store.set_state, ident, JobState.RUNNING):
                return  # cancelled just now
            self._notify(ident)
            request = await asyncio.to_thread(store.request, ident)
            if not await asyncio.to_thread(store.expanded, ident):
                await self._expand(ident, request)
            failed = await self._batch(ident, request)
            await asyncio.to_thread(store.set_state, ident,
                                    JobState.FAILED if failed else JobState.DONE)
        except asyncio.CancelledError:
            if ident in self._cancelled:  # its articles were marked by cancel() and _save
                return
            raise  # shutdown: left 'running', taken up again at the next start
        except ReaderError as exc:  # the voice went away with a restart, say
            await asyncio.to_thread(store.set_state, ident, JobState.FAILED, str(exc))
        self._notify(ident)

    async def _expand(self, ident: str, request: JobRequest) -> None:
        svc = self.service
        limits = SourceLimits(max_articles=svc.settings.max_batch_articles,
                              max_feed_bytes=svc.settings.max_feed_bytes)
        sources, problems = await expand(request.inputs, svc.fetch_policy, limits,
                                         resolver=svc.resolver)
        sources = list(request.articles) + sources
        await asyncio.to_thread(self.store.set_articles, ident, sources, problems)

    async def _batch(self, ident: str, request: JobRequest) -> bool:
        """Run the job's unfinished articles; True if any article failed."""
        rows = await asyncio.to_thread(self.store.articles, ident)
        runnable = [(position, source, tally) for position, source, tally in rows
                    if source is not None]
        positions = {id(tally): position for position, _, tally in runnable}
        dirty: dict[int, Tally] = {}

        def changed(tally: Tally) -> None:  # on the loop, per clip: only note it
            dirty[positions[id(tally)]] = tally

        options = BatchOptions(voice=self.service.speaker.voices.get(request.voice),
                               prosody=Prosody(rate=request.rate),
                               concurrency=self.concurrency, pin=request.pin)
        batch = Batch(self.service, options, listener=changed)
        stop = asyncio.Event()
        saver = asyncio.create_task(self._save_every(ident, dirty, stop))
        try:
            await batch.run([s for _, s, _ in runnable], (), tallies=[t for _, _, t in runnable])
        finally:
            stop.set()  # not cancelled: a save under way finishes before the last one
            await asyncio.gather(saver, return_exceptions=True)
            await self._save(ident, dirty)
        return any(tally.state is not State.DONE for _, _, tally in rows)

    async def _save_every(self, ident: str, dirty: dict[int, Tally],
                          stop: asyncio.Event) -> None:
        """Write progress a few times a second, off the loop, and tell the watchers."""
        while not stop.is_set():
            try:
                await asyncio.wait_for(stop.wait(), SAVE_EVERY)
            except TimeoutError:
                await self._save(ident, dirty)

    async def _save(self, ident: str, dirty: dict[int, Tally]) -> None:
        async with self._saving:  # in order: an older snapshot never lands after a newer one
            if not dirty:
                return
            if ident in self._cancelled:  # a save after the cancel must not undo it
                for tally in dirty.values():
                    if tally.state not in FINISHED:
                        tally.state, tally.error = State.CANCELLED, "cancelled"
            snapshot = {position: tally.to_json() for position, tally in dirty.items()}
            dirty.clear()
            await asyncio.to_thread(self.store.save, ident, snapshot)
        self._notify(ident)

    def _mark_cancelled(self, ident: str) -> None:
        """The articles a cancelled job had not finished say so."""
        unfinished = {position: tally for position, _, tally in self.store.articles(ident)
                      if tally.state not in FINISHED}
        for tally in unfinished.values():
            tally.state, tally.error = State.CANCELLED, "cancelled"
        self.store.save(ident, {position: t.to_json() for position, t in unfinished.items()})
