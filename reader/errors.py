"""Every error the project raises on purpose.

All of them descend from one root, so a caller can catch ``ReaderError`` and know it is ours::

    ReaderError
    ├── InputError              the input cannot be read as an article (HTTP 4xx, CLI exit 2)
    │   ├── EmptyInput          nothing but whitespace, markup or punctuation
    │   ├── InputTooLarge       over the configured size limit
    │   ├── UndecodableInput    binary data, or bytes in no known text encoding
    │   └── NoArticleFound      a page with no article text in it
    ├── ConfigError             a setting or a data file (rules, lexicon, voices) is wrong
    └── LookupMiss              a named thing does not exist (also a ``KeyError``)

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


class LookupMiss(ReaderError, KeyError):
    """A named thing (voice, engine, article) does not exist."""

    def __str__(self) -> str:
        # KeyError.__str__ would quote the message; keep it readable.
        return str(self.args[0]) if self.args else ""
