"""The only module that knows every stage: input -> Article -> Segments.

``TextPipeline.load(settings)`` does the start-up work once (rules, lexicon, jieba's
dictionary); after that, each article costs only its own cleaning and segmentation.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, replace

from reader.clean import Rule, clean_extracted, clean_plain, clean_text, load_rules
from reader.config import Settings
from reader.errors import InputTooLarge, NothingToSay
from reader.extract import decode_html, extract_html
from reader.lexicon import Lexicon, load_lexicon
from reader.normalize import Level
from reader.segment import SegmentOptions, segment_article
from reader.types import Article, Segment
from reader.words import Words, load_words


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
        return decode_html(data)

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
