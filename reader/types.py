"""Frozen values that cross stage boundaries.

``Article`` leaves cleaning, ``Segment`` leaves segmentation. Offsets are character offsets
(Python ``str`` indices) into ``Article.text``, the text the service worked from: the input
text itself for page text and editor text, the extracted main text for HTML.
"""

from __future__ import annotations

from dataclasses import dataclass
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
