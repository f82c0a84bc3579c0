"""Pre-generation: read a batch of articles into the cache before anyone presses play.

Used by ``reader pregen`` and by jobs (``POST /api/v1/jobs``). For each source (a file, a
fetched page, an inline article, see ``reader.sources``): clean and segment it, register it
(so the service has its manifest), speak every segment through the engine chain with at most
``concurrency`` syntheses at a time, and pin its clips against eviction.

Nothing here remembers progress of its own: clips are content-addressed and stored atomically,
so a run that was killed resumes by being run again (every clip already made is a cache hit),
and a run after an edit makes only the changed sentences (the others have the same keys).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from reader.articles import StoredArticle
from reader.engines.breaker import CircuitBreaker
from reader.engines.breaker import State as BreakerState
from reader.engines.validate import expected_seconds
from reader.errors import ReaderError
from reader.service import Service
from reader.sources import Loaded, Problem, Source, load
from reader.types import Article, Prosody, Segment, Voice

log = logging.getLogger(__name__)

#: Most syntheses a batch may run at once: Microsoft throttles floods from one address.
MAX_CONCURRENCY = 16
#: Seconds a batch waits in all for the primary engine's circuit breaker to close (an outage,
#: or Microsoft throttling us) before it lets the fallback engine read the rest.
PRIMARY_WAIT = 600.0
#: How often a waiting batch looks at a breaker whose trial call is under way.
_TRIAL_POLL = 0.05


class State(StrEnum):
    """Where an article of a batch is."""

    QUEUED = "queued"
    RUNNING = "running"
    DONE = "done"  # every segment has its clip from the primary engine
    PARTIAL = "partial"  # done, but some clips came from a fallback engine
    FAILED = "failed"  # could not be read, or some segment has no clip
    CANCELLED = "cancelled"


#: States an article does not leave again within a run.
FINISHED = frozenset({State.DONE, State.PARTIAL, State.FAILED, State.CANCELLED})


@dataclass(slots=True)
class Tally:
    """One article's progress and outcome; updated in place as the batch runs."""

    label: str  # the path or URL it came from
    state: State = State.QUEUED
    title: str | None = None
    article: str | None = None  # its id once registered
    segments: int = 0
    new: int = 0  # clips synthesised by this run
    reused: int = 0  # clips found in the cache
    fallback: int = 0  # clips a fallback engine spoke (the primary voice is still missing)
    failed: int = 0  # segments with no clip at all
    audio_ms: float = 0.0  # audio made or found (estimated for a dry run)
    error: str | None = None  # why it failed, one line
    replaces: str | None = None  # the article id this source read as before an edit

    def restart(self) -> None:
        """Forget the counts of an earlier, interrupted attempt."""
        self.new = self.reused = self.fallback = self.failed = self.segments = 0
        self.audio_ms, self.error, self.replaces = 0.0, None, None

    @property
    def spoken(self) -> int:
        return self.new + self.reused + self.fallback + self.failed

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Tally:
        """The tally ``to_json`` wrote."""
        return cls(label=data["label"], state=State(data["state"]), title=data["title"],
                   article=data["article"], segments=data["segments"], new=data["new"],
                   reused=data["reused"], fallback=data["fallback"], failed=data["failed"],
                   audio_ms=float(data["audio_ms"]), error=data["error"],
                   replaces=data["replaces"])

    def to_json(self) -> dict[str, object]:
        return {"label": self.label, "state": self.state.value, "title": self.title,
                "article": self.article, "segments": self.segments, "new": self.new,
                "reused": self.reused, "fallback": self.fallback, "failed": self.failed,
                "audio_ms": round(self.audio_ms), "error": self.error,
                "replaces": self.replaces}


@dataclass(slots=True)
class Summary:
    """A whole run: every article's tally, and the inputs that gave none."""

    tallies: list[Tally] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    seconds: float = 0.0
    dry_run: bool = False

    @property
    def failures(self) -> int:
        """Articles that failed or fell back, plus inputs that gave no article."""
        bad = {State.FAILED, State.PARTIAL, State.CANCELLED}
        return sum(t.state in bad for t in self.tallies) + len(self.problems)

    def total(self, name: str) -> float:
        return sum(float(getattr(t, name)) for t in self.tallies)


#: Called whenever an article's tally changes (a clip done, a state change).
Listener = Callable[[Tally], None]


@dataclass(frozen=True, slots=True)
class BatchOptions:
    voice: Voice
    prosody: Prosody = Prosody()
    concurrency: int = 2
    pin: bool = True
    dry_run: bool = False
    primary_wait: float = PRIMARY_WAIT  # see PRIMARY_WAIT; 0: never wait


def _closed(breaker: CircuitBreaker) -> bool:
    return breaker.state is BreakerState.CLOSED


class Batch:
    """Pre-generates articles through a ``Service``'s pipeline, speaker and store."""

    def __init__(self, service: Service, options: BatchOptions,
                 listener: Listener | None = None) -> None:
        if not 1 <= options.concurrency <= MAX_CONCURRENCY:
            raise ValueError(f"concurrency must be 1..{MAX_CONCURRENCY}")
        self.service = service
        self.options = options
        self._listener = listener or (lambda tally: None)
        self._slots = asyncio.Semaphore(options.concurrency)
        self._wait_until: float | None = None  # the batch's deadline for waiting on the primary
        self._trying = False  # one of ours is the breaker's trial call
        self._planned: dict[str, float] = {}  # dry run: clips it would make, estimated ms

    async def run(self, sources: Sequence[Source], problems: Sequence[Problem] = (),
                  tallies: Sequence[Tally] | None = None) -> Summary:
        """Read every source; ``tallies`` (one per source) lets a caller watch or resume them
        (sources whose tally is already finished are skipped)."""
        started = time.monotonic()
        tallies = list(tallies) if tallies is not None else [Tally(s.label) for s in sources]
        # A few articles at a time: enough to keep every synthesis slot busy across article
        # boundaries, few enough that a batch of thousands does not sit in memory.
        articles = asyncio.Semaphore(self.options.concurrency + 1)

        async def one(source: Source, tally: Tally) -> None:
            async with articles:
                await self._article(source, tally)

        todo = [(s, t) for s, t in zip(sources, tallies, strict=True) if t.state not in FINISHED]
        # Cancelled, the articles under way stay 'running': the caller knows whether that
        # means cancelled (a job) or interrupted (to be taken up again).
        await asyncio.gather(*(one(s, t) for s, t in todo))
        return Summary(tallies, list(problems), time.monotonic() - started,
                       self.options.dry_run)

    # ------------------------------------------------------------ one article

    async def _article(self, source: Source, tally: Tally) -> None:
        tally.restart()  # a resumed job's article is counted afresh
        self._set(tally, State.RUNNING)
        try:
            article, url = await self._read(source)
            tally.title = article.title
            if self.options.dry_run:
                await asyncio.to_thread(self._estimate, article, tally)
                self._set(tally, State.DONE)
                return
            stored = await self._register(article, url, tally)
            await self._speak_all(stored, tally)
            await self._finish(source, stored, tally)
        except ReaderError as exc:  # unreadable, nothing to say, a site failing (FetchFailed)...
            self._set(tally, State.FAILED, error=str(exc))
        except Exception as exc:  # a bug or a broken store: this article fails, not the batch
            log.exception("%s: unexpected error", tally.label)
            self._set(tally, State.FAILED, error=f"internal error: {exc!r}")

    async def _read(self, source: Source) -> tuple[Article, str | None]:
        svc = self.service
        loaded = await load(source, svc.fetch_policy, resolver=svc.resolver)
        article = await asyncio.to_thread(self._article_of, loaded)
        return article, loaded.url

    def _article_of(self, loaded: Loaded) -> Article:
        text = self.service.text
        if loaded.html:
            return text.from_html(loaded.data, loaded.url, loaded.charset, loaded.title)
        data = loaded.data if isinstance(loaded.data, str) else text.decode_text(loaded.data)
        read = text.from_plain_text if loaded.plain else text.from_page_text
        return read(data, loaded.title)

    async def _register(self, article: Article, url: str | None,
                        tally: Tally) -> StoredArticle:
        opts = self.options
        stored, _ = await asyncio.to_thread(self.service.store_article, article, opts.voice,
                                            opts.prosody, url)
        tally.article, tally.segments = stored.id, len(stored.segments)
        if opts.pin:  # before its clips are made: eviction must never take one in between
            await asyncio.to_thread(self.service.pin, stored, self._kept_audio(stored))
        self._listener(tally)
        return stored

    def _kept_audio(self, stored: StoredArticle) -> list[str]:
        """The article's whole-article MP3 from an earlier run, if any: it stays pinned."""
        made = self.service.store.audio_key(stored.id)
        return [made] if made else []

    async def _speak_all(self, stored: StoredArticle, tally: Tally) -> None:
        async def one(segment: Segment) -> None:
            async with self._slots:
                await self._speak(segment, tally)

        await asyncio.gather(*(one(s) for s in stored.segments))

    async def _speak(self, segment: Segment, tally: Tally) -> None:
        trial = await self._primary_ready(segment)
        try:
            spoken = await self.service.speaker.speak(segment, self.options.voice,
                                                      self.options.prosody)
        except ReaderError as exc:
            tally.failed += 1
            tally.error = tally.error or f"sentence {segment.index + 1}: {exc}"
            log.warning("%s: sentence %d: %s", tally.label, segment.index + 1, exc)
        else:
            if spoken.fallback:
                tally.fallback += 1
                tally.error = tally.error or (
                    f"{spoken.engine} spoke for the primary voice, which failed; run again"
                    " when it is back")
            elif spoken.cached:
                tally.reused += 1
            else:
                tally.new += 1
            tally.audio_ms += spoken.audio.duration_ms
        finally:
            if trial:
                self._trying = False
        self._listener(tally)

    async def _primary_ready(self, segment: Segment) -> bool:
        """Wait while the primary engine's breaker is open, rather than have the offline
        voice read the rest of the batch (a sentence already cached never waits); True if
        this call is to be the breaker's trial. After ``primary_wait`` seconds of waiting in
        all, the fallback reads on."""
        speaker, opts = self.service.speaker, self.options
        breaker: CircuitBreaker | None = getattr(speaker.engines[0], "breaker", None)
        if breaker is None or _closed(breaker):
            return False  # the usual case: no cache lookup here, speak() does it
        if await asyncio.to_thread(speaker.has_primary, segment, opts.voice, opts.prosody):
            return False
        loop = asyncio.get_running_loop()
        while not _closed(breaker):
            if breaker.trial_due and not self._trying:
                self._trying = True  # the others wait for its verdict
                return True
            if self._wait_until is None:  # one deadline for the whole batch
                self._wait_until = loop.time() + self.options.primary_wait
                log.warning("%s is failing; pre-generation waits for it (up to %g s)",
                            self.service.speaker.engines[0].name, self.options.primary_wait)
            left = self._wait_until - loop.time()
            if left <= 0:
                return False
            await asyncio.sleep(min(left, breaker.retry_after() or _TRIAL_POLL))
        return False

    async def _finish(self, source: Source, stored: StoredArticle, tally: Tally) -> None:
        if tally.failed:
            self._set(tally, State.FAILED)
            return
        if self.options.pin:
            await self._pin(stored, tally)
            await asyncio.to_thread(self._new_edition, source, stored, tally)
        self._set(tally, State.PARTIAL if tally.fallback else State.DONE)

    async def _pin(self, stored: StoredArticle, tally: Tally) -> None:
        # The clips were pinned at registration. The whole-article MP3 is made only from the
        # primary voice; with fallback clips it waits (one made before from the same text is
        # still right, and stays pinned and in the feed).
        if not tally.fallback:
            await self.service.publish(stored)

    def _new_edition(self, source: Source, stored: StoredArticle, tally: Tally) -> None:
        """Follow the source's edits: when it read as another article before, that reading
        is unpinned, unless another source still reads as it (the clips it shares with the
        new reading stay pinned by the new one)."""
        if source.identity is None:
            return
        opts = self.options
        previous = self.service.store.new_edition(source.identity, stored.id, opts.voice.id,
                                                  opts.prosody)
        tally.replaces = previous
        if previous:
            self.service.unpin_orphan(previous)

    def _estimate(self, article: Article, tally: Tally) -> None:
        """Dry run: which segments would be synthesised, and how long the audio would be."""
        svc, voice, prosody = self.service, self.options.voice, self.options.prosody
        segments = svc.text.segments(article)
        tally.segments = len(segments)
        for segment in segments:
            key = svc.speaker.primary_key(segment, voice, prosody)
            cached = svc.speaker.cached(segment, voice, prosody)
            if cached is not None and not cached.fallback:
                tally.reused += 1
                tally.audio_ms += cached.audio.duration_ms
            elif key in self._planned:  # said twice in the batch: made once, then reused
                tally.reused += 1
                tally.audio_ms += self._planned[key]
            else:
                tally.new += 1
                self._planned[key] = 1000 * expected_seconds(segment.speak, prosody)
                tally.audio_ms += self._planned[key]

    def _set(self, tally: Tally, state: State, error: str | None = None) -> None:
        tally.state = state
        if error is not None:
            tally.error = error
        self._listener(tally)
