"""Word boundaries: ``jieba.Tokenizer``s of our own, loaded at start-up.

jieba's module-level tokenizer is a global that loads lazily on first use and keeps its
dictionary cache in the system temp folder. We own instances instead: the cache file lives in
our cache folder, and ``load_words()`` is called at start-up (CLI command, app factory, an
engine's load), never at import and never per request. Loading from the cache takes about half
a second; building the cache the first time about a second.

jieba's dictionary is about 80 MB in memory, and two parts of one process want words with
additions of their own (the text pipeline its lexicon, kokoro its readings table). Every
tokenizer of the process therefore reads one shared copy of the dictionary, with the words
added to it kept apart (``_Dictionary``).
"""

from __future__ import annotations

import logging
import math
import tempfile
import threading
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


class _Dictionary(dict[str, int]):
    """One tokenizer's view of jieba's dictionary: the process's shared copy, read only, under
    the words this tokenizer added (jieba's ``add_word`` writes them, and their prefixes, into
    ``FREQ``). It implements the reads jieba makes: ``[]``, ``in`` and ``get``."""

    def __init__(self, shared: dict[str, int]) -> None:
        super().__init__()
        self.shared = shared

    def __missing__(self, word: str) -> int:
        return self.shared[word]

    def __contains__(self, word: object) -> bool:
        return dict.__contains__(self, word) or word in self.shared

    def get(self, word: str, default: int | None = None) -> int | None:  # type: ignore[override]
        if dict.__contains__(self, word):
            return dict.__getitem__(self, word)
        return self.shared.get(word, default)


_shared: tuple[dict[str, int], int] | None = None
_shared_lock = threading.Lock()


def _shared_dictionary(cache_dir: Path) -> tuple[dict[str, int], int]:
    """jieba's dictionary (word -> frequency) and its total count, loaded once per process
    (from the cache file in ``cache_dir`` when it is there)."""
    global _shared
    with _shared_lock:
        if _shared is None:
            loader = jieba.Tokenizer()
            loader.tmp_dir = str(cache_dir)
            loader.cache_file = CACHE_FILE
            loader.initialize()
            _shared = (loader.FREQ, loader.total)
        return _shared


def load_words(cache_dir: Path, extra_words: Iterable[str] = ()) -> Words:
    """A tokenizer on jieba's dictionary (loaded once per process, from our cache when it is
    there) that also knows ``extra_words``."""
    try:
        cache_dir.mkdir(parents=True, exist_ok=True)
    except OSError as exc:  # still work, only slower to start: jieba builds its dictionary
        log.warning("cache folder %s is unusable (%s); jieba's dictionary cache goes to %s",
                    cache_dir, exc.strerror or exc, tempfile.gettempdir())
        cache_dir = Path(tempfile.gettempdir())
    shared, total = _shared_dictionary(cache_dir)
    tokenizer = jieba.Tokenizer()
    tokenizer.FREQ, tokenizer.total = _Dictionary(shared), total
    tokenizer.initialized = True
    words = Words(tokenizer)
    for word in extra_words:
        words.add(word)
    return words
