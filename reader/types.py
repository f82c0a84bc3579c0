"""Frozen values that cross stage boundaries.

``Article`` leaves cleaning, ``Segment`` leaves segmentation, ``Voice`` comes from the
presets in ``voices/``, ``Prosody`` from the caller, and ``Audio`` leaves an engine.

Offsets are character offsets (Python ``str`` indices) into ``Article.text``, the text the
service worked from: the input text itself for page text and editor text (with a given title
put in front when the text lacks it), the extracted main text for HTML.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum


class Kind(StrEnum):
    """What a paragraph is. Only the *read* kinds are spoken by default."""

    TITLE = "title"  # the article's headline
    META = "meta"  # publication time, source, author line
    BODY = "body"  # the article's text
    CAPTION = "caption"  # a photo caption (read only when captions are turned on)
    # Page chrome: kept in the article so offsets stay whole, never read.
    NAV = "nav"  # navigation and breadcrumbs ("当前位置: 首页>...")
    LOGIN = "login"  # login, logout, welcome links
    CONTROL = "control"  # font size, print, share, comment controls and other page furniture
    FOOTER = "footer"  # copyright, ICP licence, site owner lines
    NOTICE = "notice"  # "you are about to leave this site" and similar
    ASSISTANT = "assistant"  # the voice assistant's own greeting
    CREDIT = "credit"  # a photo credit standing on its own line
    DUPLICATE = "duplicate"  # a line repeated from earlier in the page


#: Kinds read aloud by default; ``Kind.CAPTION`` joins them when captions are on.
READ_KINDS: frozenset[Kind] = frozenset({Kind.TITLE, Kind.META, Kind.BODY})


@dataclass(frozen=True, slots=True)
class Paragraph:
    """One line or block of the article, classified."""

    index: int  # position among the article's paragraphs, from 0
    kind: Kind  # what the paragraph is
    text: str  # the text that would be read: ``Article.text[start:end]``
    start: int  # offset of the first character in ``Article.text``
    end: int  # offset one past the last character in ``Article.text``
    rule: str | None = None  # name of the chrome rule that classified it, if any


@dataclass(frozen=True, slots=True)
class Article:
    """A cleaned article: its text, what it is about, and its classified paragraphs."""

    text: str  # the text offsets point into (see module docstring)
    title: str | None  # the headline, if the input had one
    published: str | None  # publication time as ISO 8601 ("2025-09-05T20:18"), if found
    source: str | None  # the source or publisher line ("来源: 新华社" gives "新华社"), if found
    paragraphs: tuple[Paragraph, ...]  # every paragraph in input order, chrome included
    origin: str  # "page" (scraped text), "html" or "plain" (editor text)

    def readable(self, captions: bool = False) -> tuple[Paragraph, ...]:
        """The paragraphs read aloud, in order: title, meta and body (and captions if asked)."""
        kinds = READ_KINDS | {Kind.CAPTION} if captions else READ_KINDS
        return tuple(p for p in self.paragraphs if p.kind in kinds)


@dataclass(frozen=True, slots=True)
class Segment:
    """One sentence (or clause of a long sentence): the unit that is synthesised and highlighted."""

    index: int  # position among the article's segments, from 0
    kind: Kind  # the kind of the paragraph it comes from
    text: str  # display text, exactly ``Article.text[start:end]``
    speak: str  # the text sent to the engine: normalised, lexicon applied, markup-free
    paragraph: int  # ``Paragraph.index`` of its paragraph
    start: int  # offset of the first character in ``Article.text``
    end: int  # offset one past the last character in ``Article.text``
    lexicon: tuple[tuple[str, str], ...] = ()  # lexicon entries (word, say) that fired, in order


# ---------------------------------------------------------------- speech


@dataclass(frozen=True, slots=True)
class Prosody:
    """How fast, loud and high a voice speaks, relative to its default.

    The ranges are what edge accepts and what still sounds like speech; ``check()`` enforces
    them. Every engine maps them onto its own scale.
    """

    rate: int = 0  # percent, -50..+100 (+100 is twice as fast)
    volume: int = 0  # percent, -50..+50
    pitch: int = 0  # hertz, -50..+50

    RATE = (-50, 100)
    VOLUME = (-50, 50)
    PITCH = (-50, 50)

    def key(self) -> str:
        """Stable text form, for cache keys and logs: ``rate=+0%,volume=+0%,pitch=+0Hz``."""
        return f"rate={self.rate:+d}%,volume={self.volume:+d}%,pitch={self.pitch:+d}Hz"

    def problems(self) -> list[str]:
        """What is out of range, as sentences for an error message (empty when all is well)."""
        found = []
        for name, unit, (low, high) in (("rate", "%", self.RATE), ("volume", "%", self.VOLUME),
                                        ("pitch", "Hz", self.PITCH)):
            value = getattr(self, name)
            if not low <= value <= high:
                found.append(f"{name} must be between {low:+d}{unit} and {high:+d}{unit},"
                             f" not {value:+d}{unit}")
        return found


@dataclass(frozen=True, slots=True)
class Voice:
    """A voice preset from ``voices/``: one friendly name, a voice per engine."""

    id: str  # the preset's name, used in URLs and on the command line: "xiaoxiao"
    label: str  # what a person sees: "晓晓 · 普通话女声"
    language: str  # BCP 47 tag: "zh-CN", "zh-HK", "en-US"
    engines: Mapping[str, str] = field(default_factory=dict)  # engine name -> its voice name
    gender: str = ""  # "female", "male", or ""
    description: str = ""  # one line: what the voice is for

    def for_engine(self, engine: str) -> str | None:
        """This preset's voice name on ``engine``, or None if the engine has none."""
        return self.engines.get(engine)


@dataclass(frozen=True, slots=True)
class Boundary:
    """Where a word or sentence falls in a clip (edge reports them; others may estimate)."""

    kind: str  # "word" or "sentence"
    text: str  # the word or sentence as the engine saw it
    offset_ms: float  # start, from the beginning of the clip
    duration_ms: float  # how long it is spoken


@dataclass(frozen=True, slots=True)
class Audio:
    """One synthesised clip: MP3, 24 kHz, mono, as every engine produces it."""

    data: bytes  # the MP3 bytes, no ID3 tag
    duration_ms: float  # decoded duration
    engine: str  # name of the engine that spoke
    voice: str  # the engine's voice name ("zh-CN-XiaoxiaoNeural", "cmn")
    boundaries: tuple[Boundary, ...] = ()  # word and sentence timings, where known
