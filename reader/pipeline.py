"""The only module that knows every stage: input -> Article -> Segments -> audio.

``TextPipeline.load(settings)`` does the start-up work once (rules, lexicon, jieba's
dictionary); after that, each article costs only its own cleaning and segmentation.
``Speaker`` turns segments into audio through the engine chain and the cache; fallback
between engines lives there and nowhere else.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import tempfile
from dataclasses import dataclass, field, replace
from pathlib import Path

from reader.audio import probe_mp3
from reader.broadcast import Broadcast
from reader.cache import DiskCache, cache_key
from reader.clean import Rule, clean_extracted, clean_plain, clean_text, load_rules
from reader.config import Settings
from reader.engines.base import Engine
from reader.engines.registry import build_chain
from reader.engines.validate import check_clip
from reader.errors import (
    BadAudio,
    BadProsody,
    CacheError,
    ConfigError,
    EngineError,
    InputTooLarge,
    NoEngineAvailable,
    NothingToSay,
    ReaderError,
)
from reader.extract import decode_html, decode_text, extract_html
from reader.lexicon import Lexicon, load_lexicon
from reader.normalize import Level
from reader.segment import SegmentOptions, segment_article, speak_text
from reader.types import Article, Audio, Boundary, Prosody, Segment, Voice
from reader.voices import VoiceBook, load_voices
from reader.words import Words, load_words

log = logging.getLogger(__name__)

#: Segments whose speak text per level ``TextPipeline.speak_for`` remembers.
SPOKEN_MEMORY = 20_000


@dataclass(frozen=True, slots=True)
class TextPipeline:
    """Cleaning, segmentation and normalisation, with their data loaded."""

    settings: Settings
    rules: list[Rule]
    lexicon: Lexicon
    words: Words
    #: speak_for() results: every clip request and manifest needs each segment's speak text
    #: per engine level (its cache key), and jieba plus normalisation should run once for it.
    _spoken: dict[tuple[str, str, str], tuple[str, tuple[tuple[str, str], ...]]] = field(
        default_factory=dict, compare=False, repr=False)

    @classmethod
    def load(cls, settings: Settings) -> TextPipeline:
        """Load rules, lexicon and jieba's dictionary (from our cache folder)."""
        lexicon = load_lexicon(settings.lexicon_files)
        words = load_words(settings.cache_dir, extra_words=lexicon.entries)
        return cls(settings, load_rules(settings.rules_files), lexicon, words)

    # ------------------------------------------------------------ input -> Article

    def from_page_text(self, text: str, title: str | None = None) -> Article:
        """Page text as scraped: chrome rules apply, the headline is found."""
        return clean_text(text, self.rules, title=title, max_chars=self.settings.max_input_chars)

    def from_plain_text(self, text: str, title: str | None = None) -> Article:
        """Article text typed by an editor: read as it is."""
        return clean_plain(text, title=title, max_chars=self.settings.max_input_chars)

    def from_html(self, html: bytes | str, url: str | None = None,
                  charset: str | None = None, title: str | None = None) -> Article:
        """A page's HTML (bytes in any common Chinese encoding, or text); a given ``title``
        replaces the one found in the page."""
        size = len(html)
        if size > self.settings.max_html_bytes:
            raise InputTooLarge(
                f"the page is {size:,} bytes; the limit is {self.settings.max_html_bytes:,}."
                " Raise READER_MAX_HTML_BYTES to read it."
            )
        markup = decode_html(html, charset) if isinstance(html, bytes) else html
        page = extract_html(markup, url=url)
        if title:
            page = dataclasses.replace(page, title=title)
        return clean_extracted(page, self.rules, max_chars=self.settings.max_input_chars)

    def decode_text(self, data: bytes) -> str:
        """Bytes of a text file, in any common Chinese encoding."""
        return decode_text(data)

    # ------------------------------------------------------------ Article -> Segments

    def options(self, level: Level = "full", captions: bool | None = None) -> SegmentOptions:
        """Segment options from settings, with per-call overrides."""
        base = SegmentOptions(max_chars=self.settings.max_sentence_chars,
                              captions=self.settings.read_captions)
        return replace(base, level=level,
                       captions=base.captions if captions is None else captions)

    def segments(self, article: Article, level: Level = "full",
                 captions: bool | None = None) -> list[Segment]:
        """The article's segments, normalised for an engine of the given level.

        ``NothingToSay`` if no paragraph has anything speakable (only punctuation, emoji,
        markup): an empty reading is an error the caller should see, not silence.
        """
        found = segment_article(article, self.words, self.lexicon, self.options(level, captions))
        if not found:
            raise NothingToSay(
                "nothing to read: the text has no words to speak (only punctuation, symbols"
                " or markup)"
            )
        return found

    def speak_for(self, segment: Segment, level: Level) -> tuple[str, tuple[tuple[str, str], ...]]:
        """The segment's text to speak for an engine of ``level``, and the lexicon entries
        used (not ``segment.speak``: that may have been made for another level). Remembered,
        up to ``SPOKEN_MEMORY`` texts."""
        memo = (segment.text, segment.kind.value, level)
        found = self._spoken.get(memo)
        if found is None:
            if len(self._spoken) >= SPOKEN_MEMORY:
                self._spoken.clear()  # crude but bounded; a hot article is back in one pass
            found = speak_text(segment.text, segment.kind, self.lexicon, self.words, level)
            self._spoken[memo] = found
        return found


# ---------------------------------------------------------------- speech


@dataclass(frozen=True, slots=True)
class Spoken:
    """One segment's audio and where it came from."""

    audio: Audio  # the clip (MP3, 24 kHz, mono)
    key: str  # its content address in the cache
    engine: str  # the engine that spoke it
    cached: bool  # served from the cache, not synthesised now
    fallback: bool  # spoken by an engine after the chain's first choice


def checked_prosody(prosody: Prosody) -> Prosody:
    """``prosody`` if every value is in range, else ``BadProsody`` saying which is not."""
    if problems := prosody.problems():
        raise BadProsody("; ".join(problems))
    return prosody


def open_cache(settings: Settings) -> DiskCache:
    """The audio cache in ``READER_CACHE_DIR/audio``; if that folder cannot be used, one in a
    temporary folder (logged): the service keeps speaking, it only forgets more."""
    folder = settings.cache_dir / "audio"
    try:
        return DiskCache(folder, max_bytes=settings.cache_max_bytes)
    except CacheError as exc:
        fallback = Path(tempfile.mkdtemp(prefix="reader-audio-"))
        log.error("audio cache %s is unusable (%s); using %s until it is fixed",
                  folder, exc, fallback)
        return DiskCache(fallback, max_bytes=settings.cache_max_bytes)


class SpeechObserver:
    """Hooks for metrics; the default does nothing. Override what you count."""

    def cache_lookup(self, engine: str, hit: bool) -> None: ...
    def synthesized(self, engine: str, seconds: float, first_byte: float | None) -> None: ...
    def failed(self, engine: str, error: EngineError) -> None: ...
    def fell_back(self, from_engine: str, to_engine: str) -> None: ...


class Speaker:
    """Segments -> audio: the engine chain, the cache, and fallback, in one place.

    For each engine in chain order: its clip for this segment is looked up in the cache under
    that engine's own key, else synthesised. A fallback engine's clip never stands in for the
    primary's: once edge is back, the next request for a segment gets the neural voice.

    Single-flight: all requests for one segment (same voice and prosody) while it is being
    made share one ``Broadcast``: one synthesis, identical bytes, streamed to every listener
    as the engine produces them. The work runs in its own task, so a listener that leaves
    cancels nothing.
    """

    #: Retries of a clip that failed validation, when nobody was listening to its bytes.
    QUIET_RETRIES = 1

    def __init__(self, text: TextPipeline, engines: list[Engine], cache: DiskCache,
                 voices: VoiceBook, observer: SpeechObserver | None = None) -> None:
        if not engines:
            raise ConfigError("the engine chain is empty; set READER_ENGINES, e.g. edge,espeak")
        self.text = text
        self.engines = engines
        self.cache = cache
        self.voices = voices
        self.observer = observer or SpeechObserver()
        self._flights: dict[str, Broadcast[Spoken]] = {}
        self._tasks: set[asyncio.Task[None]] = set()

    @classmethod
    def load(cls, settings: Settings, text: TextPipeline | None = None) -> Speaker:
        """Build the chain, open the cache and read the voice presets from ``settings``."""
        voices = load_voices(settings.voices_dir, settings.default_voice)
        text = text or TextPipeline.load(settings)
        return cls(text, build_chain(settings), open_cache(settings), voices)

    # ------------------------------------------------------------ keys

    def key_for(self, engine: Engine, segment: Segment, voice: Voice, prosody: Prosody) -> str:
        """The cache key of ``engine``'s clip for ``segment``; '' if it has no such voice."""
        name = engine.voice_name(voice)
        if name is None:
            return ""
        speak, used = self.text.speak_for(segment, engine.level)
        return cache_key(engine=engine.name, revision=engine.revision, voice=name,
                         prosody=prosody.key(), speak=speak, lexicon=used)

    def primary_key(self, segment: Segment, voice: Voice, prosody: Prosody) -> str:
        """The key of the first engine in the chain that has this voice: the clip's address."""
        for engine in self.engines:
            if key := self.key_for(engine, segment, voice, prosody):
                return key
        raise NoEngineAvailable(f"no engine has a voice for {voice.id!r}")

    def in_flight(self, key: str) -> bool:
        """Is the clip with this primary key being made right now?"""
        return key in self._flights

    def has_primary(self, segment: Segment, voice: Voice, prosody: Prosody) -> bool:
        """Is the primary engine's clip cached, or being made now? Only then is a request
        for the segment free: a fallback clip does not stop the primary engine being asked."""
        key = self.primary_key(segment, voice, prosody)
        return self.in_flight(key) or self.cache.get(key) is not None

    def cached(self, segment: Segment, voice: Voice, prosody: Prosody) -> Spoken | None:
        """The best clip already in the cache, without synthesising (chain order)."""
        for position, engine in enumerate(self.engines):
            key = self.key_for(engine, segment, voice, prosody)
            if key and (clip := self.cache.get(key)) is not None:
                return Spoken(clip.audio, key, engine.name, True, position > 0)
        return None

    def heard(self, segment: Segment, voice: Voice,
              prosody: Prosody) -> tuple[Spoken | None, str]:
        """The best cached clip of the segment (None if none is), and the text its engine
        was given (or would be: the first engine's)."""
        found = self.cached(segment, voice, prosody)
        engine = next((e for e in self.engines if found and e.name == found.engine),
                      self.engines[0])
        return found, self.text.speak_for(segment, engine.level)[0]

    # ------------------------------------------------------------ speaking

    async def speak(self, segment: Segment, voice: Voice | None = None,
                    prosody: Prosody | None = None, *, eager: bool = False) -> Spoken:
        """The segment's whole clip, from the first engine that can give it. ``eager``: a
        listener is about to play it (a warm start), so its first bytes should come early;
        otherwise (a batch, an export) the engine makes it the fastest way it can."""
        return await self.stream(segment, voice, prosody, eager=eager).result()

    def stream(self, segment: Segment, voice: Voice | None = None,
               prosody: Prosody | None = None, *, eager: bool = True) -> Broadcast[Spoken]:
        """The broadcast of the segment's clip: joined if one is running, else started
        (``eager``: a listener waits for its first bytes; see ``Engine.stream``)."""
        voice = voice or self.voices.default
        prosody = checked_prosody(prosody or Prosody())
        if not any(ch.isalnum() for ch in segment.text):
            raise NothingToSay(f"nothing to say in {segment.text!r}: no letters or digits")
        flight = self.primary_key(segment, voice, prosody)
        if (running := self._flights.get(flight)) is not None:
            return running
        broadcast: Broadcast[Spoken] = Broadcast()
        self._flights[flight] = broadcast
        task = asyncio.create_task(self._produce(flight, broadcast, segment, voice, prosody,
                                                 eager))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return broadcast

    async def _produce(self, flight: str, out: Broadcast[Spoken], segment: Segment,
                       voice: Voice, prosody: Prosody, eager: bool) -> None:
        try:
            outcome = await self._through_chain(out, segment, voice, prosody, eager)
        except BaseException as exc:  # cancelled at shutdown, or a bug: listeners must not hang
            self._flights.pop(flight, None)
            out.fail(exc)
            raise
        # Leave the flight table before telling the listeners, so that a request made after
        # the result is out starts afresh (and finds the clip in the cache).
        self._flights.pop(flight, None)
        if isinstance(outcome, Spoken):
            out.finish(outcome)
        else:
            out.fail(outcome)

    async def _through_chain(self, out: Broadcast[Spoken], segment: Segment, voice: Voice,
                             prosody: Prosody, eager: bool) -> Spoken | ReaderError:
        failures: list[str] = []
        tried: list[str] = []
        for position, engine in enumerate(self.engines):
            key = self.key_for(engine, segment, voice, prosody)
            if not key:
                continue
            if tried:
                self.observer.fell_back(tried[-1], engine.name)
            tried.append(engine.name)
            spoken = await self._from_engine(out, engine, key, segment, voice, prosody,
                                             fallback=position > 0, eager=eager)
            if isinstance(spoken, Spoken) or out.started:
                return spoken  # once bytes went out, no other engine may continue them
            failures.append(f"{engine.name}: {spoken}")
        return NoEngineAvailable(
            "no engine could speak this sentence (" + "; ".join(failures) + ")",
            retry_after=self._retry_after())

    async def _from_engine(self, out: Broadcast[Spoken], engine: Engine, key: str,
                           segment: Segment, voice: Voice, prosody: Prosody,
                           fallback: bool, eager: bool) -> Spoken | EngineError:
        """The engine's clip (cached, or made and stored), or the error it failed with."""
        out.source, out.fallback = engine.name, fallback
        clip = await asyncio.to_thread(self.cache.get, key)
        self.observer.cache_lookup(engine.name, clip is not None)
        if clip is not None:
            # Published and (by _produce) finished with no await in between: a listener
            # finds the stored clip whole and can answer with ranges and validators.
            out.publish(clip.audio.data)
            return Spoken(clip.audio, key, engine.name, True, fallback)
        speak, _ = self.text.speak_for(segment, engine.level)
        for attempt in range(self.QUIET_RETRIES + 1):
            try:
                audio = await self._synthesize(out, engine, speak, voice, prosody, eager)
            except EngineError as exc:
                self.observer.failed(engine.name, exc)
                log.warning("%s could not speak segment %d: %s", engine.name, segment.index, exc)
                if not out.listeners:
                    out.retract()  # nobody heard the bad bytes: start over clean
                quiet_retry = isinstance(exc, BadAudio) and not out.started
                if quiet_retry and attempt < self.QUIET_RETRIES:
                    continue
                return exc
            await asyncio.to_thread(self.cache.store, key, audio)  # logs if the disk is full
            return Spoken(audio, key, engine.name, False, fallback)
        raise AssertionError("unreachable: the last attempt returns")

    async def _synthesize(self, out: Broadcast[Spoken], engine: Engine, speak: str,
                          voice: Voice, prosody: Prosody, eager: bool) -> Audio:
        """Stream the engine into ``out``; the whole clip once it is checked."""
        loop = asyncio.get_running_loop()
        started = loop.time()
        first_byte: float | None = None
        chunks: list[bytes] = []
        boundaries: list[Boundary] = []
        async for item in engine.stream(speak, voice, prosody, eager=eager):
            if isinstance(item, Boundary):
                boundaries.append(item)
                continue
            first_byte = first_byte if first_byte is not None else loop.time() - started
            chunks.append(item)
            out.publish(item)
        data = b"".join(chunks)
        info = probe_mp3(data)  # BadAudio for empty, garbage or a cut-off frame
        audio = Audio(data, info.duration_ms, engine.name,
                      engine.voice_name(voice) or "", tuple(boundaries))
        check_clip(audio, speak, prosody)  # never cache an empty or partial clip
        self.observer.synthesized(engine.name, loop.time() - started, first_byte)
        return audio

    def _retry_after(self) -> float:
        waits = [b.retry_after() for e in self.engines if (b := getattr(e, "breaker", None))]
        return max(1.0, min(waits, default=30.0))

    def preload(self) -> None:
        """Let every engine in the chain start loading its model in the background."""
        for engine in self.engines:
            engine.preload()

    async def drain(self, timeout: float) -> None:
        """Wait up to ``timeout`` seconds for the syntheses under way to finish."""
        if self._tasks:
            await asyncio.wait(list(self._tasks), timeout=timeout)

    async def aclose(self) -> None:
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        for engine in self.engines:
            await engine.aclose()
        await self.cache.aclose()
