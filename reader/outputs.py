"""Publishing outputs built from clips already synthesised: nothing is synthesised here.

One timeline places every clip in the whole-article audio, with whole-frame silences between
them. Everything else is derived from it, so the MP3, its chapters, the WebVTT captions and the
word timings agree to the millisecond::

    Part (segment, paragraph, kind, clip duration)
      -> timeline()      -> Placed (start_ms, end_ms in the article)
      -> article_mp3()   the clips and silences joined byte for byte, behind an ID3v2.4 tag
                         (title, site, date, source URL, language, chapters)
      -> webvtt()        one cue per sentence
      -> word_timings()  JSON-ready words per sentence, in article time

Times are floats in milliseconds until they are written out, where they are rounded to whole
milliseconds the same way everywhere. Every clip and silence is a whole number of 24 ms
frames, so in practice they are whole already.
"""

from __future__ import annotations

import functools
import io
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from itertools import chain
from typing import TypedDict

from mutagen.id3 import (
    CHAP,
    COMM,
    CTOC,
    ID3,
    TALB,
    TDRC,
    TIT2,
    TLAN,
    TLEN,
    TPE1,
    TPUB,
    CTOCFlags,
    Frame,
)

from reader.audio import concat_mp3, probe_mp3, require_project_format, silence_mp3
from reader.types import Audio, Boundary, Kind, Segment

# ---------------------------------------------------------------- the timeline

#: A clip shorter than this cannot be placed: once times are rounded to whole milliseconds,
#: its cue and chapter would last nothing, which WebVTT and ID3 chapters both forbid.
MIN_CLIP_MS = 1.0

#: How far a clip's stated duration may stray from its decoded one. Both are whole 24 ms
#: frames, so any real difference means the captions would drift from the audio.
DURATION_SLACK_MS = 0.5


@dataclass(frozen=True, slots=True)
class Part:
    """One synthesised clip, as the timeline sees it."""

    segment: int  # ``Segment.index`` of the sentence the clip speaks
    paragraph: int  # ``Paragraph.index`` of its paragraph: a change means a paragraph pause
    duration_ms: float  # the clip's decoded duration (``Audio.duration_ms``)
    kind: Kind = Kind.BODY  # the paragraph's kind: the title gets a longer pause after it

    def __post_init__(self) -> None:
        if not self.duration_ms >= MIN_CLIP_MS:  # also refuses NaN
            raise ValueError(f"clip {self.segment} lasts {self.duration_ms} ms:"
                             f" a clip must last at least {MIN_CLIP_MS:g} ms")

    @classmethod
    def of(cls, segment: Segment, audio: Audio) -> Part:
        """The part for ``segment`` spoken as ``audio``."""
        return cls(segment.index, segment.paragraph, audio.duration_ms, segment.kind)


@dataclass(frozen=True, slots=True)
class Placed:
    """A clip placed in the whole-article audio."""

    segment: int  # ``Segment.index``
    paragraph: int  # ``Paragraph.index``
    kind: Kind  # the paragraph's kind
    start_ms: float  # where the clip starts in the article's audio
    end_ms: float  # where it ends: ``start_ms`` + the clip's duration

    @property
    def duration_ms(self) -> float:
        """How long the clip lasts."""
        return self.end_ms - self.start_ms


@dataclass(frozen=True, slots=True)
class Pauses:
    """The silences asked for between clips; each becomes whole 24 ms frames of silence."""

    sentence_ms: float = 250  # between sentences of one paragraph: a breath, not a stop
    paragraph_ms: float = 700  # between paragraphs: long enough to hear the topic turn
    title_ms: float = 900  # after the headline, as a newsreader pauses before the story

    def between(self, before: Part, after: Part) -> float:
        """The pause asked for between two consecutive clips."""
        if before.paragraph == after.paragraph:
            return self.sentence_ms
        return self.title_ms if before.kind is Kind.TITLE else self.paragraph_ms


DEFAULT_PAUSES = Pauses()


@functools.cache
def _silence(ms: float) -> tuple[bytes, float]:
    """The silence ``silence_mp3`` makes for ``ms``, and how long it really lasts (probed)."""
    data = silence_mp3(ms)
    return data, probe_mp3(data).duration_ms if data else 0.0


def _gaps(parts: Sequence[Part], pauses: Pauses) -> Iterator[tuple[bytes, float]]:
    """The silence before each part (none before the first), with its real duration."""
    for index, part in enumerate(parts):
        yield _silence(pauses.between(parts[index - 1], part)) if index else (b"", 0.0)


def timeline(parts: Sequence[Part], pauses: Pauses = DEFAULT_PAUSES) -> list[Placed]:
    """Place each clip in the article's audio, after the real silence that precedes it."""
    placed: list[Placed] = []
    clock = 0.0
    for part, (_, gap_ms) in zip(parts, _gaps(parts, pauses), strict=True):
        start = clock + gap_ms
        clock = start + part.duration_ms
        placed.append(Placed(part.segment, part.paragraph, part.kind, start, clock))
    return placed


def _ms(value: float) -> int:
    """A time as whole milliseconds: the one rounding every output uses."""
    return round(value)


# ---------------------------------------------------------------- the whole-article MP3

#: Chapter titles are the paragraph's first words: a player shows one short line per chapter.
CHAPTER_TITLE_CHARS = 24
_ELLIPSIS = "…"
#: Frame values meaning "no byte offset, use the times" (ID3v2 chapter addendum, CHAP frame).
_NO_OFFSET = 0xFFFFFFFF
#: The ID3 text encoding for UTF-8, allowed from ID3v2.4 on: Chinese needs Unicode.
_UTF8 = 3
#: ID3 language fields (TLAN, COMM) take ISO 639-2 codes; ``Tags`` holds BCP 47 like the
#: voices. Cantonese has no ISO 639-2 code of its own: it is written as Chinese.
_ISO_639_2 = {"zh": "zho", "yue": "zho", "en": "eng", "ja": "jpn", "ko": "kor"}
_UNDETERMINED = "und"  # ISO 639-2 for "language not known"
#: ID3v2.4 timestamps are ISO 8601 cut at any unit: yyyy[-MM[-dd[THH[:mm[:ss]]]]]. A zone
#: or fraction has no place in them, so only the leading part that fits is kept.
_ID3_TIME = re.compile(r"\d{4}(?:-\d{2}(?:-\d{2}(?:[T ]\d{2}(?::\d{2}(?::\d{2})?)?)?)?)?")


@dataclass(frozen=True, slots=True)
class Tags:
    """What the article MP3's ID3 tag says about it."""

    title: str  # the headline (TIT2)
    site: str | None = None  # the publishing site: artist, publisher and album (TPE1/TPUB/TALB)
    date: str | None = None  # publication time, ISO 8601 ("2025-09-05T20:18") (TDRC)
    url: str | None = None  # the article's address, kept as a comment (COMM)
    language: str = "zh"  # BCP 47 tag of the text ("zh", "zh-CN", "en-US") (TLAN)


def _iso_639_2(language: str) -> str:
    """The ISO 639-2 code ID3 wants for a BCP 47 tag (its primary subtag)."""
    primary = language.split("-")[0].split("_")[0].lower()
    if len(primary) == 3 and primary.isascii() and primary.isalpha():
        return primary
    return _ISO_639_2.get(primary, _UNDETERMINED)


def _id3_time(date: str) -> str | None:
    """The ID3v2.4 timestamp for an ISO 8601 date, or None if it does not start with one."""
    found = _ID3_TIME.match(date.strip())
    return found.group().replace(" ", "T") if found else None


def first_words(text: str, limit: int = CHAPTER_TITLE_CHARS) -> str:
    """The start of ``text`` on one line, at most ``limit`` characters with the ellipsis.

    Chinese has no spaces, so the cut falls anywhere; text with spaces is cut between words.
    """
    line = " ".join(text.split())
    if len(line) <= limit:
        return line
    cut = line[:limit - len(_ELLIPSIS)]
    space = cut.rfind(" ")
    if space > len(cut) // 2:  # a word boundary not too far back
        cut = cut[:space]
    return cut.rstrip() + _ELLIPSIS


def _text(frame: type[Frame], value: str) -> Frame:
    """A UTF-8 text frame."""
    return frame(encoding=_UTF8, text=[value])


def _chapters(placed: Sequence[Placed], texts: Sequence[str], total_ms: float) -> list[Frame]:
    """One CHAP per paragraph, then the CTOC listing them.

    Chapters tile the audio: each runs to the next one's start, so the pause after a paragraph
    belongs to it and a player's chapter list has no gaps.
    """
    starts = [i for i, p in enumerate(placed) if i == 0 or p.paragraph != placed[i - 1].paragraph]
    frames: list[Frame] = []
    ids: list[str] = []
    for number, first in enumerate(starts):
        end = placed[starts[number + 1]].start_ms if number + 1 < len(starts) else total_ms
        title = first_words(texts[first]) if texts else ""
        ids.append(f"chp{number}")
        frames.append(CHAP(  # type: ignore[no-untyped-call]  # mutagen leaves it unannotated
            element_id=ids[-1], start_time=_ms(placed[first].start_ms), end_time=_ms(end),
            start_offset=_NO_OFFSET, end_offset=_NO_OFFSET,
            sub_frames=[_text(TIT2, title or str(number + 1))]))
    frames.append(CTOC(  # type: ignore[no-untyped-call]
        element_id="toc", flags=CTOCFlags.TOP_LEVEL | CTOCFlags.ORDERED,
        child_element_ids=ids, sub_frames=[]))
    return frames


def _tag_frames(tags: Tags, total_ms: float) -> list[Frame]:
    """The article-level frames."""
    language = _iso_639_2(tags.language)
    # TLEN: with no Xing header a player would otherwise guess the length from the bitrate.
    frames = [_text(TIT2, tags.title), _text(TLAN, language), _text(TLEN, str(_ms(total_ms)))]
    if tags.site:
        frames += [_text(TPE1, tags.site), _text(TPUB, tags.site), _text(TALB, tags.site)]
    stamp = _id3_time(tags.date) if tags.date else None
    if stamp:
        frames.append(_text(TDRC, stamp))
    if tags.url:
        frames.append(COMM(  # type: ignore[no-untyped-call]
            encoding=_UTF8, lang=language, desc="", text=[tags.url]))
    return frames


def id3_tag(frames: Sequence[Frame]) -> bytes:
    """An ID3v2.4 tag holding ``frames``, rendered in memory, with no padding."""
    tag = ID3()  # type: ignore[no-untyped-call]  # mutagen leaves these unannotated
    for frame in frames:
        tag.add(frame)  # type: ignore[no-untyped-call]
    buffer = io.BytesIO()
    # v1=0: never an ID3v1 tag at the end; the audio must stay the last bytes.
    tag.save(buffer, v1=0, v2_version=4, padding=lambda info: 0)
    return buffer.getvalue()


def _checked(part: Part, data: bytes) -> None:
    """``ValueError`` unless ``data`` is a project-format clip as long as ``part`` says."""
    decoded = require_project_format(data).duration_ms
    if abs(decoded - part.duration_ms) > DURATION_SLACK_MS:
        raise ValueError(f"clip {part.segment} decodes to {decoded} ms, not the"
                         f" {part.duration_ms} ms its part says: the timeline would drift")


def article_mp3(clips: Sequence[tuple[Part, bytes]], tags: Tags, *, chapters: bool = True,
                texts: Sequence[str] = (), pauses: Pauses = DEFAULT_PAUSES) -> bytes:
    """The whole article as one MP3: an ID3v2.4 tag, then the clips and silences joined.

    Everything after the tag is exactly ``concat_mp3`` of the clips with the timeline's
    silences between them. ``texts`` are the clips' display texts, in order; a chapter is
    titled with the first words of its paragraph's first sentence (its number without them).
    """
    if not clips:
        raise ValueError("an article MP3 needs at least one clip")
    if texts and len(texts) != len(clips):
        raise ValueError(f"{len(texts)} texts for {len(clips)} clips")
    parts = [part for part, _ in clips]
    for part, data in clips:
        _checked(part, data)
    silences = [gap for gap, _ in _gaps(parts, pauses)]
    audio = concat_mp3(chain.from_iterable(
        zip(silences, (data for _, data in clips), strict=True)))
    placed = timeline(parts, pauses)
    total = placed[-1].end_ms
    frames = _tag_frames(tags, total)
    if chapters:
        frames += _chapters(placed, texts, total)
    return id3_tag(frames) + audio


# ---------------------------------------------------------------- WebVTT

_VTT_ESCAPES = str.maketrans({"&": "&amp;", "<": "&lt;", ">": "&gt;", "\0": "\ufffd"})


def vtt_time(ms: float) -> str:
    """A WebVTT timestamp, hours always written: ``HH:MM:SS.mmm``."""
    hours, rest = divmod(_ms(ms), 3_600_000)
    minutes, rest = divmod(rest, 60_000)
    seconds, millis = divmod(rest, 1000)
    return f"{hours:02d}:{minutes:02d}:{seconds:02d}.{millis:03d}"


def vtt_text(text: str) -> str:
    """Cue text: one line, with &, < and > escaped, so "-->" and blank lines cannot occur.

    Every run of whitespace, line breaks included, becomes one space: a cue is one sentence,
    and a blank line would end it. NUL becomes U+FFFD, as a WebVTT parser would make it.
    """
    return " ".join(text.split()).translate(_VTT_ESCAPES)


def _cue(placed: Placed, text: str) -> str:
    """One cue block: id, timings, text (no blank line in it)."""
    return (f"{placed.segment}\n{vtt_time(placed.start_ms)} --> {vtt_time(placed.end_ms)}\n"
            f"{vtt_text(text)}")


def webvtt(placed: Sequence[Placed], texts: Sequence[str]) -> str:
    """A WebVTT file with one cue per clip, identified by its segment index."""
    if len(placed) != len(texts):
        raise ValueError(f"{len(texts)} texts for {len(placed)} placed clips")
    return "WEBVTT\n\n" + "".join(_cue(p, t) + "\n\n" for p, t in zip(placed, texts, strict=True))


def segment_vtt(text: str, duration_ms: float) -> str:
    """A WebVTT file for one clip alone: cue 0 from 0 to its duration."""
    return webvtt([Placed(0, 0, Kind.BODY, 0.0, duration_ms)], [text])


# ---------------------------------------------------------------- word timings


class WordTiming(TypedDict):
    """One word, in article time."""

    text: str
    start_ms: int
    end_ms: int


class SegmentTimings(TypedDict):
    """One sentence and its words, in article time."""

    index: int  # ``Segment.index``
    start_ms: int
    end_ms: int
    words: list[WordTiming]  # empty when the engine gave no word boundaries


def _word(placed: Placed, boundary: Boundary) -> WordTiming:
    """A word boundary moved into article time, kept inside its clip (engines overrun a bit)."""
    start = placed.start_ms + boundary.offset_ms
    end = start + boundary.duration_ms
    return {"text": boundary.text, "start_ms": _ms(_within(start, placed)),
            "end_ms": _ms(_within(end, placed))}


def _within(ms: float, placed: Placed) -> float:
    """``ms`` moved inside the clip's span."""
    return min(max(ms, placed.start_ms), placed.end_ms)


def word_timings(placed: Sequence[Placed],
                 boundaries: Sequence[Sequence[Boundary]]) -> list[SegmentTimings]:
    """Per clip: its segment index, times and words, JSON-ready; ``boundaries`` per clip."""
    if len(placed) != len(boundaries):
        raise ValueError(f"{len(boundaries)} boundary lists for {len(placed)} placed clips")
    return [{"index": p.segment, "start_ms": _ms(p.start_ms), "end_ms": _ms(p.end_ms),
             "words": [_word(p, b) for b in found if b.kind == "word"]}
            for p, found in zip(placed, boundaries, strict=True)]
