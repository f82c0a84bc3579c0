"""Registered articles, in SQLite: what a manifest is built from.

An article is registered with the voice and prosody it is to be read with; its id is a hash of
that and of the text, so registering the same article with the same voice again finds it (HTTP
200, not 201). The clip keys of its segments are recorded too (``clips`` table), so a request
for a content-addressed clip URL that is not in the cache yet can be traced to the segment to
synthesise.
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
import threading
import time
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from reader.errors import LookupMiss
from reader.types import Article, Kind, Prosody, Segment

#: Bump when the id's inputs change: old ids then stop matching, nothing else breaks.
ID_SCHEME = 1


class UnknownArticle(LookupMiss):
    """No article with that id."""


@dataclass(frozen=True, slots=True)
class StoredArticle:
    """An article as registered: its reading and the settings it is read with."""

    id: str
    title: str | None
    published: str | None
    source: str | None
    origin: str
    url: str | None
    voice: str
    prosody: Prosody
    segments: tuple[Segment, ...]
    created: float


def article_id(article: Article, voice: str, prosody: Prosody) -> str:
    """Stable id: the same text, title, voice and prosody always give the same id."""
    payload = json.dumps([ID_SCHEME, article.text, article.title, voice, prosody.key()],
                         ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()[:32]


def _segment_json(segment: Segment) -> dict[str, object]:
    return {"index": segment.index, "kind": segment.kind.value, "text": segment.text,
            "speak": segment.speak, "paragraph": segment.paragraph, "start": segment.start,
            "end": segment.end, "lexicon": [list(entry) for entry in segment.lexicon]}


def _segment(data: Any) -> Segment:
    """A segment back from its JSON (written by ``_segment_json``)."""
    return Segment(index=int(data["index"]), kind=Kind(data["kind"]), text=str(data["text"]),
                   speak=str(data["speak"]), paragraph=int(data["paragraph"]),
                   start=int(data["start"]), end=int(data["end"]),
                   lexicon=tuple((str(word), str(say)) for word, say in data["lexicon"]))


SCHEMA = """
CREATE TABLE IF NOT EXISTS articles (
    id TEXT PRIMARY KEY,
    created REAL NOT NULL,
    title TEXT, published TEXT, source TEXT, origin TEXT NOT NULL, url TEXT,
    voice TEXT NOT NULL, prosody TEXT NOT NULL,
    segments TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS clips (
    key TEXT NOT NULL,
    article TEXT NOT NULL REFERENCES articles(id) ON DELETE CASCADE,
    segment INTEGER NOT NULL,
    PRIMARY KEY (key, article, segment)
);
CREATE INDEX IF NOT EXISTS clips_by_article ON clips(article);
"""


class ArticleStore:
    """Articles and the clip keys of their segments, in one SQLite file."""

    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self._db = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=NORMAL")
        self._db.execute("PRAGMA foreign_keys=ON")
        self._db.executescript(SCHEMA)
        self._lock = threading.Lock()

    def add(self, article: Article, segments: list[Segment], *, voice: str, prosody: Prosody,
            url: str | None = None) -> tuple[StoredArticle, bool]:
        """Register ``article``; returns it and whether it is new."""
        ident = article_id(article, voice, prosody)
        stored = StoredArticle(ident, article.title, article.published, article.source,
                               article.origin, url, voice, prosody, tuple(segments), time.time())
        prosody_json = json.dumps([prosody.rate, prosody.volume, prosody.pitch])
        segments_json = json.dumps([_segment_json(s) for s in segments], ensure_ascii=False)
        with self._lock:
            cursor = self._db.execute(
                "INSERT OR IGNORE INTO articles VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (ident, stored.created, article.title, article.published, article.source,
                 article.origin, url, voice, prosody_json, segments_json))
        if cursor.rowcount == 0:
            return self.get(ident), False
        return stored, True

    def get(self, ident: str) -> StoredArticle:
        """The article with id ``ident``; ``UnknownArticle`` if there is none."""
        with self._lock:
            row = self._db.execute("SELECT * FROM articles WHERE id = ?", (ident,)).fetchone()
        if row is None:
            raise UnknownArticle(f"no article {ident!r}; register it with POST /api/v1/articles")
        rate, volume, pitch = json.loads(row[8])
        return StoredArticle(id=row[0], created=row[1], title=row[2], published=row[3],
                             source=row[4], origin=row[5], url=row[6], voice=row[7],
                             prosody=Prosody(rate, volume, pitch),
                             segments=tuple(_segment(d) for d in json.loads(row[9])))

    def record_clips(self, ident: str, keys: Iterable[tuple[int, str]]) -> None:
        """Remember which segment each clip key belongs to (keys change with the lexicon)."""
        with self._lock:
            self._db.executemany("INSERT OR IGNORE INTO clips VALUES (?, ?, ?)",
                                 [(key, ident, index) for index, key in keys])

    def owner_of(self, key: str) -> tuple[str, int] | None:
        """An (article id, segment index) whose clip has this key, if any."""
        with self._lock:
            row = self._db.execute("SELECT article, segment FROM clips WHERE key = ? LIMIT 1",
                                   (key,)).fetchone()
        return None if row is None else (str(row[0]), int(row[1]))

    def count(self) -> int:
        with self._lock:
            return int(self._db.execute("SELECT count(*) FROM articles").fetchone()[0])

    def close(self) -> None:
        with self._lock:
            self._db.close()
