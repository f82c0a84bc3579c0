"""The only module that knows every stage: input -> Article -> Segments -> audio.

``TextPipeline.load(settings)`` does the start-up work once (rules, lexicon, jieba's
dictionary); after that, each article costs only its own cleaning and segmentation.
``Speaker`` turns segments into audio through the engine chain and the cache; fallback
between engines lives there and nowhere else.
"""

from __future__ import annotations

import dataclasses
import logging
from dataclasses import dataclass, replace
from functools import partial

from reader.cache import DiskCache, cache_key
from reader.clean import Rule, clean_extracted, clean_plain, clean_text, load_rules
from reader.config import Settings
from reader.engines.base import Engine
from reader.engines.registry import build_chain
from reader.engines.validate import check_clip
from reader.errors import (
    BadProsody,
    ConfigError,
    EngineError,
    InputTooLarge,
    NoEngineAvailable,
    NothingToSay,
)
from reader.extract import decode_html, decode_text, extract_html
from reader.lexicon import Lexicon, load_lexicon
from reader.normalize import Level
from reader.segment import SegmentOptions, segment_article, speak_text
from reader.types import Article, Audio, Prosody, Segment, Voice
from reader.voices import VoiceBook, load_voices
from reader.words import Words, load_words

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class TextPipeline:
    """Cleaning, segmentation and normalisation, with their data loaded."""

    settings: Settings
    rules: list[Rule]
    lexicon: Lexicon
    words: Words

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
        used (recomputed: the segment's own ``speak`` may have been made for another level)."""
        return speak_text(segment.text, segment.kind, self.lexicon, self.words, level)


# ---------------------------------------------------------------- speech


@dataclass(frozen=True, slots=True)
class Spoken:
    """One segment's audio and where it came from."""

    audio: Audio  # the clip (MP3, 24 kHz, mono)
    key: str  # its content address in the cache
    engine: str  # the engine that spoke it
    cached: bool  # served from the cache, not synthesised now
    fallback: bool  # spoken by an engine after the chain's first choice


class Speaker:
    """Segments -> audio: the engine chain, the cache, and fallback, in one place.

    For each engine in chain order: its clip for this segment is looked up in the cache under
    that engine's own key, else synthesised (once, however many callers ask). A fallback
    engine's clip never stands in for the primary's: once edge is back, the next request for
    a segment gets the neural voice.
    """

    def __init__(self, text: TextPipeline, engines: list[Engine], cache: DiskCache,
                 voices: VoiceBook) -> None:
        if not engines:
            raise ConfigError("the engine chain is empty; set READER_ENGINES, e.g. edge,espeak")
        self.text = text
        self.engines = engines
        self.cache = cache
        self.voices = voices

    @classmethod
    def load(cls, settings: Settings, text: TextPipeline | None = None) -> Speaker:
        """Build the chain, open the cache and read the voice presets from ``settings``."""
        voices = load_voices(settings.voices_dir, settings.default_voice)
        cache = DiskCache(settings.cache_dir / "audio", max_bytes=settings.cache_max_bytes)
        text = text or TextPipeline.load(settings)
        return cls(text, build_chain(settings), cache, voices)

    def key_for(self, engine: Engine, segment: Segment, voice: Voice, prosody: Prosody) -> str:
        """The cache key of ``engine``'s clip for ``segment``; '' if it has no such voice."""
        name = engine.voice_name(voice)
        if name is None:
            return ""
        speak, used = self.text.speak_for(segment, engine.level)
        return cache_key(engine=engine.name, revision=engine.revision, voice=name,
                         prosody=prosody.key(), speak=speak, lexicon=used)

    async def speak(self, segment: Segment, voice: Voice | None = None,
                    prosody: Prosody | None = None, *, pin: bool = False) -> Spoken:
        """The segment's audio from the first engine that can give it."""
        voice = voice or self.voices.default
        prosody = prosody or Prosody()
        if problems := prosody.problems():
            raise BadProsody("; ".join(problems))
        if not any(ch.isalnum() for ch in segment.text):
            raise NothingToSay(f"nothing to say in {segment.text!r}: no letters or digits")
        failures: list[str] = []
        for position, engine in enumerate(self.engines):
            key = self.key_for(engine, segment, voice, prosody)
            if not key:
                continue
            speak, _ = self.text.speak_for(segment, engine.level)
            try:
                fetched = await self.cache.get_or_create(
                    key, partial(self._synthesize, engine, speak, voice, prosody), pin=pin)
            except EngineError as exc:
                log.warning("%s could not speak segment %d: %s", engine.name, segment.index, exc)
                failures.append(f"{engine.name}: {exc}")
                continue
            return Spoken(fetched.audio, key, engine.name, fetched.hit, position > 0)
        raise NoEngineAvailable(
            "no engine could speak this sentence (" + ("; ".join(failures) or
            f"no engine has a voice for {voice.id!r}") + ")",
            retry_after=self._retry_after(),
        )

    async def _synthesize(self, engine: Engine, speak: str, voice: Voice,
                          prosody: Prosody) -> Audio:
        audio = await engine.synthesize(speak, voice, prosody)
        check_clip(audio, speak, prosody)  # never cache an empty or partial clip
        return audio

    def _retry_after(self) -> float:
        waits = [b.retry_after() for e in self.engines if (b := getattr(e, "breaker", None))]
        return max(1.0, min(waits, default=30.0))

    async def aclose(self) -> None:
        for engine in self.engines:
            await engine.aclose()
        await self.cache.aclose()
