"""The service behind the HTTP API: articles, manifests, clips, publishing outputs.

Routes in ``reader.api`` stay thin: they parse the request, call one method here, and map
errors in one place. Everything here is plain async Python, testable without HTTP.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import threading
from collections.abc import AsyncIterator, Coroutine, Sequence
from dataclasses import dataclass
from typing import Any

from reader.articles import ArticleStore, StoredArticle
from reader.broadcast import Broadcast
from reader.cache import check_key, derived_key
from reader.config import Settings
from reader.engines.base import Engine
from reader.errors import EngineError, LookupMiss, NoEngineAvailable, ReaderError
from reader.fetch import FetchPolicy, Resolver, fetch_page
from reader.limits import CharacterBudget, RateLimiter, TokenCheck
from reader.metrics import Metrics
from reader.outputs import Part, Tags, article_mp3, timeline, webvtt, word_timings
from reader.pipeline import Speaker, SpeechObserver, Spoken, TextPipeline
from reader.types import Article, Audio, Prosody, Segment, Voice

log = logging.getLogger(__name__)

API = "/api/v1"
#: Bump when the whole-article MP3's layout changes (pauses, tags), so cached ones are remade.
ARTICLE_MP3_VERSION = "1"
#: Seconds a shutting-down service waits for syntheses under way to finish and be stored.
SHUTDOWN_GRACE = 10.0


class UnknownClip(LookupMiss):
    """No clip with that key, stored or registered."""


class StaleClip(LookupMiss):
    """A clip key from an old manifest: the lexicon or an engine changed since."""


@dataclass(frozen=True, slots=True)
class Streamed:
    """A clip on its way: its bytes as they come, and who is speaking it."""

    chunks: AsyncIterator[bytes]
    engine: str
    fallback: bool  # a fallback engine speaks: the response must not be stored


@dataclass(frozen=True, slots=True)
class ArticleAudio:
    """The whole article as one MP3, and its address in the cache."""

    key: str
    data: bytes
    duration_ms: float


@dataclass(frozen=True, slots=True)
class ArticleInput:
    """What a client sends to register an article: exactly one of text, html and url."""

    text: str | None = None
    html: str | None = None
    url: str | None = None
    title: str | None = None
    plain: bool = False
    voice: str | None = None
    rate: int = 0


class MetricsObserver(SpeechObserver):
    """Speech events counted in the service's metrics."""

    def __init__(self, metrics: Metrics) -> None:
        self.metrics = metrics

    def cache_lookup(self, engine: str, hit: bool) -> None:
        (self.metrics.cache_hit if hit else self.metrics.cache_miss)()

    def synthesized(self, engine: str, seconds: float, first_byte: float | None) -> None:
        self.metrics.synthesis_seconds.labels(engine=engine).observe(seconds)
        if first_byte is not None:
            self.metrics.first_byte(first_byte)

    def failed(self, engine: str, error: EngineError) -> None:
        self.metrics.engine_error(error)

    def fell_back(self, from_engine: str, to_engine: str) -> None:
        self.metrics.fallback(from_engine, to_engine)


class Service:
    """Everything the API needs, loaded once at start-up."""

    def __init__(self, settings: Settings, text: TextPipeline, speaker: Speaker,
                 store: ArticleStore, *, resolver: Resolver | None = None) -> None:
        self.settings = settings
        self.text = text
        self.speaker = speaker
        self.store = store
        self.metrics = Metrics(engines=[e.name for e in speaker.engines])
        speaker.observer = MetricsObserver(self.metrics)
        self.limiter = RateLimiter(settings.rate_limit, settings.rate_burst)
        self.budget = CharacterBudget(settings.daily_chars)
        self.tokens = TokenCheck(settings.api_tokens)
        self.fetch_policy = FetchPolicy(
            allow_hosts=frozenset(settings.fetch_allow), max_bytes=settings.max_html_bytes,
            timeout=settings.fetch_timeout, trusted_networks=settings.fetch_trusted_networks)
        self.resolver = resolver
        self._warming: set[asyncio.Task[None]] = set()
        # Pins live in two places (the article store decides, the cache obeys): one change
        # at a time, or an unpin could release a clip another article is just pinning.
        self._pins = threading.Lock()

    @classmethod
    def load(cls, settings: Settings, *, engines: list[Engine] | None = None,
             text: TextPipeline | None = None, resolver: Resolver | None = None) -> Service:
        text = text or TextPipeline.load(settings)
        if text.settings != settings:
            # A pipeline loaded elsewhere (tests share one) keeps its rules, lexicon and words,
            # but the size limits it enforces must be this service's.
            text = dataclasses.replace(text, settings=settings)
        speaker = Speaker.load(settings, text)
        if engines is not None:
            speaker.engines = engines
        store = ArticleStore(settings.cache_dir / "articles.sqlite")
        return cls(settings, text, speaker, store, resolver=resolver)

    def start(self) -> None:
        """At app start-up: engines begin loading their models in the background (the
        service answers at once; a request that needs a model waits for it)."""
        self.speaker.preload()

    async def settle(self) -> None:
        """At app shutdown: stop queued warm-ups, let syntheses under way finish (bounded) so
        their clips are stored, and write what is kept in memory."""
        for task in list(self._warming):
            task.cancel()
        await asyncio.gather(*self._warming, return_exceptions=True)
        await self.speaker.drain(SHUTDOWN_GRACE)
        await asyncio.to_thread(self.speaker.cache.flush)

    async def aclose(self) -> None:
        """Release everything: engines, cache, article store."""
        await self.settle()
        await self.speaker.aclose()
        self.store.close()

    # ------------------------------------------------------------ articles

    async def register(self, request: ArticleInput, client: str) -> tuple[dict[str, Any], bool]:
        """Register an article (or find it again); queue its first segments. Manifest, new?"""
        voice = self.speaker.voices.get(request.voice)
        prosody = Prosody(rate=request.rate)
        article = await self._article(request)
        # Segmenting, the store and the manifest (cache reads) are blocking work: off the loop,
        # so clips being streamed to other listeners do not stall.
        stored, created = await asyncio.to_thread(self.store_article, article, voice, prosody,
                                                  request.url)
        self._warm(stored, voice, client)
        return await asyncio.to_thread(self.manifest, stored), created

    def store_article(self, article: Article, voice: Voice, prosody: Prosody,
                      url: str | None) -> tuple[StoredArticle, bool]:
        """Register ``article`` (or find it again) with its clip keys; stored, new?"""
        segments = self.text.segments(article)
        stored, created = self.store.add(article, segments, voice=voice.id, prosody=prosody,
                                         url=url)
        self.store.record_clips(stored.id, enumerate(self.clip_keys(stored)))
        return stored, created

    async def _article(self, request: ArticleInput) -> Article:
        if request.url is not None:
            page = await fetch_page(request.url, self.fetch_policy, resolver=self.resolver)
            return await asyncio.to_thread(self.text.from_html, page.content, page.final_url,
                                           page.charset, request.title)
        if request.html is not None:
            return await asyncio.to_thread(self.text.from_html, request.html, None, None,
                                           request.title)
        assert request.text is not None  # the API model checks one input is given
        read = self.text.from_plain_text if request.plain else self.text.from_page_text
        return await asyncio.to_thread(read, request.text, request.title)

    def article(self, ident: str) -> StoredArticle:
        return self.store.get(ident)

    # ------------------------------------------------------------ pins

    def clip_keys(self, stored: StoredArticle) -> list[str]:
        """The primary engine's clip key for each of the article's segments."""
        voice = self.speaker.voices.get(stored.voice)
        return [self.speaker.primary_key(s, voice, stored.prosody) for s in stored.segments]

    def pin(self, stored: StoredArticle, extra: Sequence[str] = ()) -> None:
        """Keep the article's clips (and ``extra`` outputs) out of eviction until unpinned.
        Keys it held before and no longer has (after a lexicon change) are let go."""
        keys = self.clip_keys(stored) + list(extra)
        with self._pins:  # the store's decision and the cache's pins change together
            self.speaker.cache.pin(keys)  # the cache first: a crash between leaves more pinned
            if released := self.store.pin(stored.id, keys):
                self.speaker.cache.unpin(released)

    def unpin_orphan(self, ident: str) -> int:
        """Unpin an article no source reads as any more (an edited page's old reading), in
        one step with the check; returns the clips released (0 if it is still wanted)."""
        with self._pins:
            if not self.store.is_pinned(ident) or self.store.editions_of(ident):
                return 0
            return self._release(ident)

    async def publish(self, stored: StoredArticle) -> ArticleAudio:
        """Pin a pre-generated article with its whole-article MP3 (made now if need be), and
        record the MP3 for the podcast feed. Not charged: editors' batches are trusted."""
        made = await self.article_audio(stored, None, pin=True)
        await asyncio.to_thread(self.pin, stored, [made.key])
        await asyncio.to_thread(self.store.set_audio, stored.id, made.key, len(made.data),
                                made.duration_ms)
        return made

    def unpin(self, ident: str) -> int:
        """Let the article's clips be evicted again (those no other pinned article holds);
        returns how many clips were released."""
        with self._pins:
            return self._release(ident)

    def _release(self, ident: str) -> int:
        """Unpin the article in the store, then the keys it alone held in the cache (the
        caller holds the pins lock)."""
        released = self.store.unpin(ident)
        self.speaker.cache.unpin(released)
        return len(released)

    def manifest(self, stored: StoredArticle) -> dict[str, Any]:
        """What the widget reads: the article, its voice, and each segment's clip URL."""
        voice = self.speaker.voices.get(stored.voice)
        base = f"{API}/articles/{stored.id}"
        return {
            "id": stored.id,
            "title": stored.title,
            "published": stored.published,
            "source": stored.source,
            "origin": stored.origin,
            "url": stored.url,
            "voice": {"id": voice.id, "label": voice.label, "language": voice.language},
            "rate": stored.prosody.rate,
            "engines": [e.name for e in self.speaker.engines],
            "audio": f"{base}/audio.mp3",
            "captions": f"{base}/captions.vtt",
            "timings": f"{base}/timings.json",
            "segments": [self._segment_entry(s, voice, stored.prosody) for s in stored.segments],
        }

    def _segment_entry(self, segment: Segment, voice: Voice, prosody: Prosody) -> dict[str, Any]:
        key = self.speaker.primary_key(segment, voice, prosody)
        cached = self.speaker.cached(segment, voice, prosody)
        return {
            "index": segment.index, "kind": segment.kind.value, "text": segment.text,
            "paragraph": segment.paragraph, "start": segment.start, "end": segment.end,
            "audio": f"{API}/audio/{key}.mp3",
            "duration_ms": cached.audio.duration_ms if cached else None,
            "engine": cached.engine if cached else None,
        }

    def _warm(self, stored: StoredArticle, voice: Voice, client: str) -> None:
        """Queue the first segments, so that play starts from the cache."""
        for segment in stored.segments[: self.settings.warm_segments]:
            task = asyncio.create_task(self._warm_one(segment, voice, stored.prosody, client))
            self._warming.add(task)
            task.add_done_callback(self._warming.discard)

    async def _warm_one(self, segment: Segment, voice: Voice, prosody: Prosody,
                        client: str) -> None:
        charged = 0
        try:
            if not await asyncio.to_thread(self.speaker.has_primary, segment, voice, prosody):
                self.budget.spend(client, len(segment.text))
                charged = len(segment.text)
                await self.speaker.speak(segment, voice, prosody, eager=True)  # about to play
        except ReaderError as exc:  # a warm-up failure only means a later cold start
            self.budget.refund(client, charged)
            log.info("warm start of segment %d skipped: %s", segment.index, exc)

    # ------------------------------------------------------------ clips

    def clip_source(self, key: str) -> tuple[Segment, Voice, Prosody]:
        """The segment a clip key was registered for; raises for unknown or stale keys."""
        check_key(key)
        owner = self.store.owner_of(key)
        if owner is None:
            raise UnknownClip(f"no clip {key[:12]}…: register its article first")
        stored = self.store.get(owner[0])
        segment = stored.segments[owner[1]]
        voice = self.speaker.voices.get(stored.voice)
        if self.speaker.primary_key(segment, voice, stored.prosody) != key:
            raise StaleClip("this clip's address is out of date (the lexicon or an engine"
                            f" changed); fetch the manifest {API}/articles/{stored.id} again")
        return segment, voice, stored.prosody

    def stored_clip(self, key: str) -> Spoken | None:
        """The best clip the cache holds for the address (the primary's, or a fallback's
        standing in), without synthesising; raises for unknown or stale keys."""
        segment, voice, prosody = self.clip_source(key)
        return self.speaker.cached(segment, voice, prosody)

    async def clip_stream(self, key: str, client: str) -> Streamed | Spoken:
        """A clip not in the cache under its key: streamed as it is made, once its first
        bytes exist; or, if the speaker answered with a stored clip (a fallback's), that clip
        whole, so the response can offer validators and ranges. ``NoEngineAvailable`` if
        nothing can speak it."""
        segment, voice, prosody = self.clip_source(key)
        self.limiter.check(client)
        charge = _Charge(self.budget, client, 0)
        if not self.speaker.in_flight(key):  # joining a synthesis under way costs nothing
            self.budget.spend(client, len(segment.text))
            charge.chars = len(segment.text)
        broadcast = self.speaker.stream(segment, voice, prosody)
        if charge.chars:
            self._background(_refund_if_failed(broadcast, charge))
        try:
            return await _first_bytes(broadcast)
        except ReaderError:
            charge.refund()  # now, not when the task above gets round to it
            raise

    def _background(self, work: Coroutine[Any, Any, None]) -> None:
        task = asyncio.create_task(work)
        self._warming.add(task)  # cancelled with the warm-ups at shutdown
        task.add_done_callback(self._warming.discard)

    # ------------------------------------------------------------ whole-article outputs

    async def spoken(self, stored: StoredArticle,
                     client: str | None) -> list[tuple[Segment, Spoken]]:
        """Every segment's clip, synthesising only what the cache lacks (a few at a time).
        What is lacking is charged to ``client``'s daily budget first, all or nothing
        (``None``: an editor's batch, not charged)."""
        voice = self.speaker.voices.get(stored.voice)
        charged = 0 if client is None else await self._charge(stored, voice, client)
        slots = asyncio.Semaphore(self.settings.edge_connections)

        async def one(segment: Segment) -> tuple[Segment, Spoken]:
            async with slots:
                return segment, await self.speaker.speak(segment, voice, stored.prosody)

        try:
            return list(await asyncio.gather(*(one(s) for s in stored.segments)))
        except ReaderError:
            if client is not None:  # what is still missing was not made: not charged
                left = await asyncio.to_thread(self._uncached, stored, voice)
                self.budget.refund(client, min(charged, left))
            raise

    async def _charge(self, stored: StoredArticle, voice: Voice, client: str) -> int:
        """Spend the budget for the segments the primary engine's clip is missing for (as
        warm-up does); ``BudgetExceeded`` before anything is synthesised. Returns the charge."""
        chars = await asyncio.to_thread(self._uncached, stored, voice)
        self.budget.spend(client, chars)
        return chars

    def _uncached(self, stored: StoredArticle, voice: Voice) -> int:
        return sum(len(segment.text) for segment in stored.segments
                   if not self.speaker.has_primary(segment, voice, stored.prosody))

    async def article_audio(self, stored: StoredArticle, client: str | None, *,
                            pin: bool = False) -> ArticleAudio:
        """The whole article as one MP3 with tags and chapters: made from its clips once,
        then kept in the cache under a key derived from the clips and the tags (``pin``: stored
        pinned, for ``publish``, which records the pin)."""
        spoken = await self.spoken(stored, client)
        voice = self.speaker.voices.get(stored.voice)
        tags = Tags(title=stored.title or "", site=stored.source, date=stored.published,
                    url=stored.url, language=voice.language)
        key = _article_audio_key(tags, spoken)
        placed = timeline([Part.of(segment, s.audio) for segment, s in spoken])
        duration = placed[-1].end_ms if placed else 0.0
        hit = await asyncio.to_thread(self.speaker.cache.get, key)
        if hit is not None:
            if pin:
                await asyncio.to_thread(self.speaker.cache.pin, [key])
            return ArticleAudio(key, hit.audio.data, duration)
        clips = [(Part.of(segment, s.audio), s.audio.data) for segment, s in spoken]
        texts = [segment.text for segment, _ in spoken]
        data = await asyncio.to_thread(article_mp3, clips, tags, texts=texts)
        audio = Audio(data, duration, "article", voice.id)
        await asyncio.to_thread(self.speaker.cache.store, key, audio, pin)
        return ArticleAudio(key, data, duration)

    async def captions(self, stored: StoredArticle, client: str | None) -> str:
        spoken = await self.spoken(stored, client)
        placed = timeline([Part.of(segment, s.audio) for segment, s in spoken])
        return webvtt(placed, [segment.text for segment, _ in spoken])

    async def timings(self, stored: StoredArticle, client: str | None) -> list[Any]:
        spoken = await self.spoken(stored, client)
        placed = timeline([Part.of(segment, s.audio) for segment, s in spoken])
        return list(word_timings(placed, [s.audio.boundaries for _, s in spoken]))

    # ------------------------------------------------------------ health

    def health(self) -> dict[str, Any]:
        stats = self.speaker.cache.stats()
        engines = []
        for engine in self.speaker.engines:
            breaker = getattr(engine, "breaker", None)
            engines.append({"name": engine.name, "revision": engine.revision,
                            "state": engine.state(),
                            "breaker": breaker.state.value if breaker else None})
        return {"status": "ok", "engines": engines,
                "cache": {"clips": stats.clips, "bytes": stats.bytes, "pinned": stats.pinned},
                "articles": self.store.count()}


def _article_audio_key(tags: Tags, spoken: Sequence[tuple[Segment, Spoken]]) -> str:
    """The whole-article MP3's address: everything that shapes its bytes (each clip, where
    it sits (paragraph and kind set the pauses), its chapter text, and the tags)."""
    parts = [ARTICLE_MP3_VERSION, tags.title, tags.site or "", tags.date or "", tags.url or "",
             tags.language or ""]
    for segment, clip in spoken:
        parts += [clip.key, str(segment.paragraph), segment.kind.value, segment.text]
    return derived_key("article.mp3", parts)


@dataclass(slots=True)
class _Charge:
    """Characters charged to a client for a synthesis; refunded once if it fails."""

    budget: CharacterBudget
    client: str
    chars: int

    def refund(self) -> None:
        self.budget.refund(self.client, self.chars)
        self.chars = 0


async def _refund_if_failed(broadcast: Broadcast[Spoken], charge: _Charge) -> None:
    """A synthesis that failed (no engine could speak) is not charged."""
    try:
        await broadcast.result()
    except ReaderError:
        charge.refund()


async def _first_bytes(broadcast: Broadcast[Spoken]) -> Streamed | Spoken:
    """Wait for the broadcast's first bytes (or its failure) before answering. A clip the
    speaker took from the cache is published and finished in one step: it comes back whole."""
    chunks = broadcast.listen()
    try:
        first = await anext(chunks)
    except StopAsyncIteration:
        raise NoEngineAvailable("the engine produced no audio for this sentence") from None
    if (whole := broadcast.settled) is not None and whole.cached:
        await chunks.aclose()
        return whole

    async def rest() -> AsyncIterator[bytes]:
        yield first
        async for chunk in chunks:
            yield chunk

    return Streamed(rest(), broadcast.source, broadcast.fallback)
