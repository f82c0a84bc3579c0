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

from reader.cache import write_atomic
from reader.errors import ConfigError, InputError
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


# ---------------------------------------------------------------- editing a lexicon file


def check_entry(word: str, say: str) -> tuple[str, str]:
    """A new entry, trimmed; ``InputError`` with what to change if it cannot be one."""
    word, say = word.strip(), say.strip()
    if not word or not say:
        raise InputError("a lexicon entry needs a word and how to say it, both non-empty")
    for name, value in (("word", word), ("reading", say)):
        if _UNSAFE.search(value) or "\t" in value or "\n" in value:
            raise InputError(f"the {name} {value!r} holds markup, tabs or control characters;"
                             " write plain text (no SSML, no < > &)")
    if word.startswith("#"):
        raise InputError(f"the word {word!r} starts with #, which marks a comment line")
    if _SEPARATOR.search(word):
        raise InputError(f"the word {word!r} holds ' = ', which separates word and reading")
    return word, say


def add_entry(path: Path, word: str, say: str) -> str | None:
    """Add ``word`` -> ``say`` to the lexicon file at ``path`` (created if missing), replacing
    the word's line if the file has one; returns the reading it replaced, if any.

    The file is rewritten atomically, its comments and order kept; it must parse before and
    after (``ConfigError`` names the bad line otherwise).
    """
    word, say = check_entry(word, say)
    lines = _lines(path)
    previous = parse_lexicon("\n".join(lines), str(path)).get(word)
    entry = f"{word}\t{say}"
    position = _line_of(lines, word)
    if position is None:
        lines.append(entry)
    else:
        lines[position] = entry
    _write_lines(path, lines)
    return previous


def remove_entry(path: Path, word: str) -> str | None:
    """Remove ``word``'s line from the lexicon file; returns its reading (None if absent)."""
    lines = _lines(path)
    previous = parse_lexicon("\n".join(lines), str(path)).get(word.strip())
    position = _line_of(lines, word.strip())
    if position is None:
        return None
    del lines[position]
    _write_lines(path, lines)
    return previous


def _lines(path: Path) -> list[str]:
    try:
        return path.read_text(encoding="utf-8").splitlines()
    except FileNotFoundError:
        return ["# Pronunciation lexicon: word<TAB>how to say it (see voices/lexicon-zh.tsv)."]
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"cannot read lexicon {path}: {exc}") from exc


def _line_of(lines: list[str], word: str) -> int | None:
    """The index of the last line defining ``word`` (the one in force)."""
    found = None
    for index, raw in enumerate(lines):
        line = raw.strip()
        if line and not line.startswith("#"):
            parts = _SEPARATOR.split(line, maxsplit=1)
            if parts[0].strip() == word:
                found = index
    return found


def _write_lines(path: Path, lines: list[str]) -> None:
    text = "\n".join(lines) + "\n"
    parse_lexicon(text, str(path))  # never write a file the service could not load
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        write_atomic(path, text.encode("utf-8"))
    except OSError as exc:
        raise InputError(f"cannot write lexicon {path}: {exc.strerror}") from None
