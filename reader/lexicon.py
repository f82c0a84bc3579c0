"""The pronunciation lexicon: words an editor wants said another way.

A lexicon file is plain UTF-8 text, one entry a line: the word, a tab (or `` = ``), and how to
say it, written so that any voice reads it right (a homophone, a spelled-out number)::

    # word      say
    苗圩	苗围
    CMG	C M G

Lines starting with ``#`` and blank lines are ignored. Later files override earlier ones.

Entries fire only on whole words: the text is split at jieba's word boundaries and an entry
replaces a token equal to its word, so 行长 never fires inside 银行长期. Each entry is taught
to the tokenizer at start-up so that a name jieba does not know still comes out as one word.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

from reader.errors import ConfigError
from reader.words import Words, is_latin

#: Never in a reading: it goes to the engine as it is, and must not be taken for markup.
_UNSAFE = re.compile(r"[<>&\x00-\x08\x0b-\x1f\x7f-\x9f]")

#: Separates word and reading: a tab, or " = " for people whose editor turns tabs into spaces.
_SEPARATOR = re.compile(r"\t+|\s+=\s+")


@dataclass(frozen=True, slots=True)
class Piece:
    """A stretch of text and, for a lexicon hit, what to say instead."""

    text: str
    say: str | None  # None: ordinary text, to be normalised


class Lexicon:
    """Word -> reading, applied at word boundaries."""

    def __init__(self, entries: dict[str, str]) -> None:
        self.entries = dict(entries)
        # A cheap pre-check: most sentences contain no lexicon word at all, and tokenising
        # only the ones that do keeps the lexicon off the hot path.
        by_length = sorted(self.entries, key=len, reverse=True)
        self._any = re.compile("|".join(map(re.escape, by_length))) if by_length else None

    def __len__(self) -> int:
        return len(self.entries)

    def split(self, text: str, words: Words) -> list[Piece]:
        """``text`` cut into ordinary pieces and lexicon hits, in order, covering it exactly."""
        if self._any is None or not self._any.search(text):
            return [Piece(text, None)] if text else []
        return list(_merge(self._pieces(text, words)))

    def _pieces(self, text: str, words: Words) -> Iterator[Piece]:
        for token in words.tokens(text):
            say = self.entries.get(token.word)
            if say is not None and _glued(text, token.start, token.end):
                say = None
            yield Piece(token.word, say)


def _glued(text: str, start: int, end: int) -> bool:
    """Is a Latin or digit token stuck to more Latin or digits? jieba cuts a known word out
    of a longer run of letters (CMG out of CMGX); that run is the real word."""
    before = text[start - 1 : start]
    after = text[end : end + 1]
    return (is_latin(before) and is_latin(text[start])) or (
        is_latin(after) and is_latin(text[end - 1]))


def _merge(pieces: Iterable[Piece]) -> Iterator[Piece]:
    """Join neighbouring ordinary pieces, so normalisation sees whole numbers and dates."""
    pending = ""
    for piece in pieces:
        if piece.say is None:
            pending += piece.text
            continue
        if pending:
            yield Piece(pending, None)
            pending = ""
        yield piece
    if pending:
        yield Piece(pending, None)


def parse_lexicon(text: str, origin: str = "<lexicon>") -> dict[str, str]:
    """Entries of one lexicon file; a malformed line raises ``ConfigError`` naming it."""
    entries: dict[str, str] = {}
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        parts = _SEPARATOR.split(line, maxsplit=1)
        if len(parts) != 2 or not parts[0].strip() or not parts[1].strip():
            raise ConfigError(
                f"{origin}:{number}: expected 'word<TAB>how to say it', got {raw.strip()!r}"
            )
        word, say = parts[0].strip(), parts[1].strip()
        if _UNSAFE.search(say) or _UNSAFE.search(word):
            raise ConfigError(
                f"{origin}:{number}: {raw.strip()!r} holds markup or control characters;"
                " a reading is plain text (no SSML, no < > &)"
            )
        entries[word] = say
    return entries


def load_lexicon(paths: Iterable[Path]) -> Lexicon:
    """Read lexicon files in order (later entries win); a missing file is a ``ConfigError``."""
    entries: dict[str, str] = {}
    for path in paths:
        try:
            content = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise ConfigError(f"cannot read lexicon {path}: {exc}") from exc
        entries.update(parse_lexicon(content, str(path)))
    return Lexicon(entries)
