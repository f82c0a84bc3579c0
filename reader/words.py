"""Word boundaries: one ``jieba.Tokenizer`` of our own, loaded once at start-up.

jieba's module-level tokenizer is a global that loads lazily on first use and keeps its
dictionary cache in the system temp folder. We own an instance instead: its cache file lives in
our cache folder, and ``load_words()`` is called at start-up (CLI command, app factory), never at
import and never per request. Loading from the cache takes about half a second; building the
cache the first time about a second.
"""

from __future__ import annotations

import logging
import math
import tempfile
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import jieba

#: jieba logs "Building prefix dict..." at DEBUG/INFO on every load; we have our own logging.
jieba.setLogLevel(logging.WARNING)

log = logging.getLogger(__name__)

CACHE_FILE = "jieba.cache"


@dataclass(frozen=True, slots=True)
class Token:
    """A word and its character offsets in the text it came from."""

    word: str
    start: int
    end: int


class Words:
    """Splits text into words at jieba's boundaries."""

    def __init__(self, tokenizer: jieba.Tokenizer) -> None:
        self._tokenizer = tokenizer

    def tokens(self, text: str) -> list[Token]:
        """Every token of ``text`` in order; their offsets tile ``text`` exactly."""
        # HMM finds unknown names (程丽华) as one word; without it they split per character.
        return [Token(w, s, e) for w, s, e in self._tokenizer.tokenize(text, HMM=True)]

    def boundaries(self, text: str) -> list[int]:
        """Offsets inside ``text`` (0 < i < len) where a word ends and another begins."""
        return [t.end for t in self.tokens(text)[:-1]]

    def knows(self, word: str) -> bool:
        """True if ``word`` is in the dictionary (built-in or added)."""
        return bool(self._tokenizer.FREQ.get(word))

    def add(self, word: str) -> None:
        """Teach a word (a lexicon entry) so it can come out of ``tokens`` whole.

        A word jieba already knows keeps its frequency. A new one gets the frequency of a
        common word, enough to beat a split into single characters but not to tear apart
        a stronger neighbouring word (行长 must not win inside 银行长期).
        """
        if self.knows(word):
            return
        self._tokenizer.add_word(word, freq=_new_word_freq(self._tokenizer))


def _new_word_freq(tokenizer: jieba.Tokenizer) -> int:
    # e^(mean log-frequency) of the dictionary would be exact; a fixed fraction of the total
    # count is close enough and constant-time: about 1 in 100,000 tokens.
    total: int = tokenizer.total
    return max(2, math.ceil(total / 100_000))


def is_latin(ch: str) -> bool:
    """An ASCII letter or digit: the characters jieba keeps together as one Latin word."""
    return ch.isascii() and ch.isalnum()


def load_words(cache_dir: Path, extra_words: Iterable[str] = ()) -> Words:
    """Load jieba's dictionary (from our cache when it is there) and add ``extra_words``."""
    try:
        cache_dir.mkdir(parents=True, exist_ok=True)
    except OSError as exc:  # still work, only slower to start: jieba builds its dictionary
        log.warning("cache folder %s is unusable (%s); jieba's dictionary cache goes to %s",
                    cache_dir, exc.strerror or exc, tempfile.gettempdir())
        cache_dir = Path(tempfile.gettempdir())
    tokenizer = jieba.Tokenizer()
    tokenizer.tmp_dir = str(cache_dir)
    tokenizer.cache_file = CACHE_FILE
    tokenizer.initialize()
    words = Words(tokenizer)
    for word in extra_words:
        words.add(word)
    return words
