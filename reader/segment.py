"""Readable paragraphs -> ``Segment``s: sentences, or clauses of sentences that are too long.

How a paragraph is cut, in order:

1. **Sentences** end at 。！？；… and their half-width forms (. ! ? ; ...), and take their closing
   quotes and brackets with them. A half-width period ends a sentence only before a space, a
   closing mark, a Chinese character or the end, and never inside a protected span: URLs,
   e-mail addresses, decimals (3.14), times (20:18) and abbreviations (Mr., U.S., e.g.).
2. **Long sentences** (weight over ``max_chars``) are cut at clause punctuation (，、：；), or at
   spaces between Chinese phrases, as late as the limit allows; failing that at a jieba word
   boundary, so a cut never falls inside a word. Only a single "word" longer than the limit
   (a 200-letter token) is cut inside.
3. **Tiny fragments** (fewer than ``min_chars`` letters or digits) join a neighbour in the same
   paragraph when the result fits; punctuation-only pieces always join. A paragraph with nothing
   speakable gives no segment.

The title (and each meta line) is never split into sentences and never joined with body text;
only a title over the limit is cut, preferably between its sub-headlines.

Weight is what a segment costs to say: a Chinese character (or any wide character) weighs 1,
other letters and digits 0.5 (an English word takes about as long as two hanzi), punctuation,
spaces and symbols 0.
"""

from __future__ import annotations

import bisect
import itertools
import math
import re
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass

from reader.lexicon import Lexicon
from reader.normalize import CHARACTER_REFERENCE, Level, normalize
from reader.types import Article, Kind, Paragraph, Segment
from reader.words import Words, is_latin

# ---------------------------------------------------------------- the language rules

#: Sentence enders. Full-width 。！？； and their half-width forms; … and ... (any run).
#: A half-width period is handled apart (see _is_sentence_period).
_ENDER = re.compile(r"[。！？!?；;]+|…+|\.{3,}|⋯+|\.")

#: Closing quotes and brackets stay with the sentence they close: 他说：“好。” / (见附件。)
_CLOSERS = "”’」』）)]】》〉〕»"

#: Straight quotes close a sentence only when they balance an opening one before them.
_STRAIGHT_QUOTES = "\"'"

#: Clause punctuation where a long sentence may be cut; the cut goes after the mark.
_CLAUSE = re.compile(r"[，、：；,:;]|——|—")

#: Han characters (CJK unified ideographs, extension A, compatibility ideographs).
_HAN = "\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"

#: A run of spaces between two Han characters separates phrases (sub-headlines, or text laid
#: out with spaces instead of commas): a cut there is as good as at a comma, and it is read
#: with a pause. Spaces next to punctuation or Latin words are only typography.
_PHRASE_SPACE = re.compile(rf"(?<=[{_HAN}])[ \t\u3000]+(?=[{_HAN}])")

#: A character that may stand in a URL: anything but spaces, Chinese punctuation and quotes.
_URL_CHAR = r"[^\s\u3000-\u303f\uff01-\uff20<>\"]"
#: The last character of a URL: not a . , ; : ! ? or ) that ends the sentence around it.
_URL_END = r"[^\s\u3000-\u303f\uff01-\uff20<>\".,;:!?)]"

#: Spans no cut may fall inside: a period, colon or comma in them is not punctuation.
_PROTECTED = re.compile(
    rf"(?:https?|ftp)://{_URL_CHAR}*{_URL_END}"  # URLs
    rf"|www\.[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+(?:/{_URL_CHAR}*{_URL_END})?"  # www.x.cn/a
    r"|[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+"  # e-mail addresses
    r"|\d+(?:[.:,，]\d+)+"  # decimals 3.14, times 20:18, thousands 100,000
    rf"|{CHARACTER_REFERENCE}"  # &amp; &#39; left in scraped text
    r"|(?:[A-Za-z]\.){2,}"  # dotted initialisms: U.S., e.g., a.m.
    r"|\b[A-Z]\.(?=\s[A-Z])"  # an initial before a name: J. K. Rowling
)

#: Abbreviations whose period does not end a sentence (compared in lower case).
ABBREVIATIONS = frozenset(
    "mr mrs ms dr prof sr jr st mt vs etc inc ltd co corp no nos fig figs vol pp ed eds"
    " jan feb mar apr jun jul aug sep sept oct nov dec gen col lt sgt rev hon approx dept"
    " est".split()
)

#: The word before a period, to look it up in ABBREVIATIONS.
_WORD_BEFORE = re.compile(r"([A-Za-z]+)$")

#: Pause marks put into the spoken text where the display text has only spaces.
_TITLE_PAUSE = "。"  # between sub-headlines: a full stop's pause
_PHRASE_PAUSE = "，"  # between phrases of body text: a comma's pause


@dataclass(frozen=True, slots=True)
class SegmentOptions:
    """How articles are cut and spoken."""

    max_chars: int = 80  # weight limit of a segment (see module docstring)
    min_chars: int = 4  # fewer letters/digits than this is a fragment that joins a neighbour
    captions: bool = False  # read photo captions too
    level: Level = "full"  # normalisation level for the engine that will speak


# ---------------------------------------------------------------- measuring


def weight(text: str) -> float:
    """What ``text`` costs to say: wide letters 1, other letters and digits 0.5, the rest 0."""
    total = 0.0
    for ch in text:
        if ch.isalnum():
            total += 1.0 if unicodedata.east_asian_width(ch) in "WF" else 0.5
    return total


def speakable(text: str) -> int:
    """How many letters and digits ``text`` has."""
    return sum(1 for ch in text if ch.isalnum())


# ---------------------------------------------------------------- sentences


def _protected(text: str) -> list[tuple[int, int]]:
    """Protected spans of ``text``, sorted and disjoint (``finditer`` gives them so)."""
    return [m.span() for m in _PROTECTED.finditer(text)]


def _inside(pos: int, spans: list[tuple[int, int]]) -> bool:
    """Is ``pos`` strictly inside one of ``spans``? (Binary search: texts can be long.)"""
    i = bisect.bisect_left(spans, (pos, pos)) - 1
    return i >= 0 and spans[i][0] < pos < spans[i][1]


def _is_sentence_period(text: str, at: int, spans: list[tuple[int, int]]) -> bool:
    """Does the half-width period at ``at`` end a sentence?"""
    if _inside(at, spans) or _inside(at + 1, spans) and at + 1 < len(text):
        return False
    following = text[at + 1 : at + 2]
    if following and not (following.isspace() or following in _CLOSERS + _STRAIGHT_QUOTES
                          or unicodedata.east_asian_width(following) in "WF"):
        return False
    word = _WORD_BEFORE.search(text[:at])
    return not (word and word.group(1).lower() in ABBREVIATIONS)


def _end_of_closers(text: str, pos: int, sentence_start: int) -> int:
    """Extend a sentence end over the closing quotes and brackets that follow it."""
    while pos < len(text):
        ch = text[pos]
        if ch in _CLOSERS:
            pos += 1
        elif ch in _STRAIGHT_QUOTES and text.count(ch, sentence_start, pos) % 2 == 1:
            pos += 1
        else:
            break
    return pos


def sentence_spans(text: str) -> list[tuple[int, int]]:
    """Spans of the sentences of ``text``, covering it; each ends after its ender and closers."""
    spans = _protected(text)
    cuts: list[int] = []
    start = 0
    for found in _ENDER.finditer(text):
        if found.group() == "." and not _is_sentence_period(text, found.start(), spans):
            continue
        if _inside(found.start(), spans):
            continue
        end = _end_of_closers(text, found.end(), start)
        if end > start and (not cuts or end > cuts[-1]):
            cuts.append(end)
            start = end
    return _spans_from_cuts(cuts, len(text))


def _spans_from_cuts(cuts: list[int], length: int) -> list[tuple[int, int]]:
    edges = [0, *(c for c in cuts if 0 < c < length), length]
    return [(a, b) for a, b in zip(edges, edges[1:], strict=False) if b > a]


# ---------------------------------------------------------------- long sentences


class _Weights:
    """Prefix sums of ``weight`` over a text, so any span's weight costs two lookups."""

    def __init__(self, text: str) -> None:
        self.acc = [0.0, *itertools.accumulate(weight(ch) for ch in text)]

    def of(self, start: int, end: int) -> float:
        return self.acc[end] - self.acc[start]


class _Layout:
    """What cutting one paragraph needs, computed once for the whole paragraph: its weights
    and the offsets after clause punctuation (and phrase spaces) where a cut may fall."""

    def __init__(self, text: str, title: bool) -> None:
        self.text = text
        self.weights = _Weights(text)
        spans = _protected(text)
        cuts = [m.end() for m in _CLAUSE.finditer(text) if not _inside(m.start(), spans)]
        cuts += [m.end() for m in _PHRASE_SPACE.finditer(text)]
        if title:  # a title's sentences are cut like clauses
            cuts += [m.end() for m in _ENDER.finditer(text) if not _inside(m.start(), spans)]
        self.clause_cuts = sorted(set(cuts))

    def cuts_within(self, start: int, end: int) -> list[int]:
        """Clause cuts strictly inside (start, end)."""
        lo = bisect.bisect_right(self.clause_cuts, start)
        hi = bisect.bisect_left(self.clause_cuts, end)
        return self.clause_cuts[lo:hi]


def _pack(weights: _Weights, start: int, end: int, cuts: list[int],
          limit: int) -> Iterator[int]:
    """Cuts inside (start, end) taken from ``cuts`` (sorted, all inside the span) so every
    piece weighs at most ``limit``.

    Pieces are balanced: with W left to place, each next piece aims at W / ceil(W / limit),
    so a sentence of 90 is cut 45 + 45, not 80 + 10. Stops early if no cut fits.
    """
    acc = weights.acc
    keys = [acc[c] for c in cuts]
    while weights.of(start, end) > limit:
        total = weights.of(start, end)
        target = acc[start] + total / math.ceil(total / limit)
        lo = bisect.bisect_right(cuts, start)
        hi = min(bisect.bisect_right(keys, acc[start] + limit), len(cuts))
        if hi <= lo:
            return
        near = bisect.bisect_left(keys, target, lo, hi)
        candidates = {min(max(near - 1, lo), hi - 1), min(near, hi - 1)}
        best = min(candidates, key=lambda i: abs(keys[i] - target))
        start = cuts[best]
        yield start


def _split_long(layout: _Layout, span: tuple[int, int], words: Words,
                limit: int) -> list[tuple[int, int]]:
    """Cut one over-long sentence at clauses, then words, then (last resort) characters."""
    start, end = span
    weights = layout.weights
    cuts = list(_pack(weights, start, end, layout.cuts_within(start, end), limit))
    result: list[tuple[int, int]] = []
    for a, b in _pieces(start, end, cuts):
        if weights.of(a, b) <= limit:
            result.append((a, b))
        else:
            result.extend(_split_words(layout.text, weights, (a, b), words, limit))
    return result


def _pieces(start: int, end: int, cuts: list[int]) -> list[tuple[int, int]]:
    edges = [start, *(c for c in cuts if start < c < end), end]
    return [(a, b) for a, b in zip(edges, edges[1:], strict=False) if b > a]


def _split_words(text: str, weights: _Weights, span: tuple[int, int], words: Words,
                 limit: int) -> list[tuple[int, int]]:
    start, end = span
    protected = _protected(text[start:end])
    bounds = [start + b for b in words.boundaries(text[start:end]) if not _inside(b, protected)]
    result: list[tuple[int, int]] = []
    for a, b in _pieces(start, end, list(_pack(weights, start, end, bounds, limit))):
        if weights.of(a, b) <= limit:
            result.append((a, b))
        else:  # one word longer than the limit: cut it where the weight runs out
            chars = list(_pack(weights, a, b, list(range(a + 1, b)), limit))
            result.extend(_pieces(a, b, chars))
    return result


# ---------------------------------------------------------------- fragments


def _join_fragments(text: str, spans: list[tuple[int, int]], options: SegmentOptions,
                    ) -> list[tuple[int, int]]:
    """Join tiny or unspeakable pieces to a neighbour; drop the paragraph if nothing speaks."""
    result: list[tuple[int, int]] = []
    for span in spans:
        piece = text[span[0] : span[1]]
        if result and _should_join(text, result[-1], piece, options):
            result[-1] = (result[-1][0], span[1])
        else:
            result.append(span)
    if len(result) > 1 and _is_fragment(text[result[0][0] : result[0][1]], options):
        merged = (result[0][0], result[1][1])
        if weight(text[merged[0] : merged[1]]) <= options.max_chars:
            result[:2] = [merged]
    return [s for s in result if speakable(text[s[0] : s[1]])]


def _is_fragment(piece: str, options: SegmentOptions) -> bool:
    return speakable(piece) < options.min_chars


def _should_join(text: str, previous: tuple[int, int], piece: str,
                 options: SegmentOptions) -> bool:
    if not speakable(piece) or not speakable(text[previous[0] : previous[1]]):
        return True
    fits = weight(text[previous[0] : previous[1]]) + weight(piece) <= options.max_chars
    return fits and _is_fragment(piece, options)


# ---------------------------------------------------------------- paragraphs


def _trim(text: str, span: tuple[int, int]) -> tuple[int, int]:
    start, end = span
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    return start, end


def paragraph_spans(paragraph: Paragraph, words: Words,
                    options: SegmentOptions) -> list[tuple[int, int]]:
    """Segment spans of one paragraph, as offsets into ``paragraph.text``."""
    text = paragraph.text
    whole = paragraph.kind in (Kind.TITLE, Kind.META)
    sentences = [(0, len(text))] if whole else sentence_spans(text)
    layout: _Layout | None = None
    spans: list[tuple[int, int]] = []
    for sentence in sentences:
        if weight(text[sentence[0] : sentence[1]]) <= options.max_chars:
            spans.append(sentence)
            continue
        layout = layout or _Layout(text, title=whole)
        spans.extend(_split_long(layout, sentence, words, options.max_chars))
    trimmed = [_trim(text, s) for s in spans]
    return _join_fragments(text, [s for s in trimmed if s[1] > s[0]], options)


# ---------------------------------------------------------------- speech


def speak_text(display: str, kind: Kind, lexicon: Lexicon, words: Words,
               level: Level) -> tuple[str, tuple[tuple[str, str], ...]]:
    """The text to send to an engine, and the lexicon entries that fired."""
    pause = _TITLE_PAUSE if kind is Kind.TITLE else _PHRASE_PAUSE
    spoken: list[str] = []
    used: list[tuple[str, str]] = []
    for piece in lexicon.split(_PHRASE_SPACE.sub(pause, display), words):
        if piece.say is not None:
            spoken.append(piece.say)
            used.append((piece.text, piece.say))
        else:
            spoken.append(normalize(piece.text, level))
    return _join_spoken(spoken), tuple(used)


def _join_spoken(parts: list[str]) -> str:
    """Join spoken pieces, keeping a space between two Latin words."""
    out = ""
    for part in filter(None, parts):
        if out and is_latin(out[-1]) and is_latin(part[0]):
            out += " "
        out += part
    return out


def segment_article(article: Article, words: Words, lexicon: Lexicon,
                    options: SegmentOptions | None = None) -> list[Segment]:
    """Every segment of the article's readable paragraphs, in order."""
    options = options or SegmentOptions()
    segments: list[Segment] = []
    for paragraph in article.readable(captions=options.captions):
        for start, end in paragraph_spans(paragraph, words, options):
            display = paragraph.text[start:end]
            speak, used = speak_text(display, paragraph.kind, lexicon, words, options.level)
            if not speakable(speak):
                continue
            segments.append(Segment(
                index=len(segments),
                kind=paragraph.kind,
                text=display,
                speak=speak,
                paragraph=paragraph.index,
                start=paragraph.start + start,
                end=paragraph.start + end,
                lexicon=used,
            ))
    return segments
