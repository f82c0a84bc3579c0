"""Every error the project raises on purpose.

All of them descend from one root, so a caller can catch ``ReaderError`` and know it is ours::

    ReaderError
    ├── InputError              the input cannot be read as an article (HTTP 4xx, CLI exit 2)
    │   ├── EmptyInput          nothing but whitespace, markup or punctuation
    │   ├── InputTooLarge       over the configured size limit
    │   ├── UndecodableInput    binary data, or bytes in no known text encoding
    │   ├── NoArticleFound      a page with no article text in it
    │   ├── NothingToSay        the text has nothing an engine can speak (punctuation only)
    │   ├── BadProsody          rate, volume or pitch out of range
    │   └── BadCacheKey         a clip key from outside is not 64 lowercase hex characters
    ├── ConfigError             a setting or a data file (rules, lexicon, voices) is wrong
    ├── LookupMiss              a named thing does not exist (also a ``KeyError``)
    │   ├── UnknownVoice        no such voice preset (the message lists the valid ones)
    │   └── UnknownEngine       no such engine (the message lists the valid ones)
    ├── EngineError             one engine could not speak one text
    │   ├── EngineUnavailable   transient: network, 429/5xx, no audio, circuit open
    │   │   └── EngineTimeout   the request ran past its deadline (fall back; do not wait again)
    │   ├── EngineRejected      permanent: the engine refuses this voice or text; do not retry
    │   └── BadAudio            audio came back but failed validation (empty, undecodable, short)
    ├── NoEngineAvailable       every engine in the fallback chain failed (HTTP 503)
    └── CacheError              the cache folder cannot be used (logged; audio is still returned)

Errors that belong to one stage subclass these where that stage lives: ``fetch`` (FetchRefused
and its kinds are ``InputError``s, FetchFailed a ``ReaderError``), ``limits`` (LimitExceeded,
AccessDenied), ``delivery`` (RangeNotSatisfiable), ``articles`` and ``service`` (lookup
misses). ``reader.api`` maps every one of them to an HTTP status in one table.

Messages are written for a person: they say what was wrong and what to do about it.
"""

from __future__ import annotations


class ReaderError(Exception):
    """Root of every error raised on purpose by reader."""


class InputError(ReaderError):
    """The input cannot be read as an article; the caller can fix it."""


class EmptyInput(InputError):
    """The input holds nothing to read aloud."""


class InputTooLarge(InputError):
    """The input is over the configured size limit."""


class UndecodableInput(InputError):
    """The input is binary, or text in an encoding we cannot identify."""


class NoArticleFound(InputError):
    """The page decodes, but no article text could be found in it."""


class ConfigError(ReaderError):
    """A setting or a data file is invalid."""


class NothingToSay(InputError):
    """The text has nothing an engine can speak."""


class BadProsody(InputError):
    """Rate, volume or pitch is out of range."""


class BadCacheKey(InputError, ValueError):
    """A key from outside is not 64 lowercase hex characters.

    Raised before anything touches the filesystem, so ``..``, ``/`` and the like never reach
    a path. It is also a ``ValueError`` for callers that do not know our tree.
    """


class LookupMiss(ReaderError, KeyError):
    """A named thing (voice, engine, article) does not exist."""

    def __str__(self) -> str:
        # KeyError.__str__ would quote the message; keep it readable.
        return str(self.args[0]) if self.args else ""


class UnknownVoice(LookupMiss):
    """No voice preset of that name."""


class UnknownEngine(LookupMiss):
    """No engine of that name."""


class EngineError(ReaderError):
    """One engine could not speak one text. ``engine`` names it."""

    def __init__(self, message: str, engine: str = "") -> None:
        super().__init__(message)
        self.engine = engine


class EngineUnavailable(EngineError):
    """A transient failure: worth a retry, or the next engine in the chain."""


class EngineTimeout(EngineUnavailable):
    """The request ran past its deadline."""


class EngineRejected(EngineError):
    """A permanent failure for this voice or text: retrying will not help."""


class BadAudio(EngineError):
    """Audio came back but is empty, undecodable, or too short for its text."""


class NoEngineAvailable(ReaderError):
    """Every engine in the fallback chain failed. ``retry_after`` is in seconds."""

    def __init__(self, message: str, retry_after: float = 30.0) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class CacheError(ReaderError):
    """The cache folder cannot be used."""
