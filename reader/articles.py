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
import threading
import time
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from reader.database import open_database, transaction
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


@dataclass(frozen=True, slots=True)
class PublishedAudio:
    """A pre-generated article and its whole-article MP3."""

    article: StoredArticle
    key: str  # the MP3's content address in the cache
    size: int  # bytes
    duration_ms: float
    since: float  # when it was pinned


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
CREATE TABLE IF NOT EXISTS pinned (
    article TEXT NOT NULL REFERENCES articles(id) ON DELETE CASCADE,
    key TEXT NOT NULL,
    PRIMARY KEY (article, key)
);
CREATE INDEX IF NOT EXISTS pinned_by_key ON pinned(key);
CREATE TABLE IF NOT EXISTS pinned_articles (
    article TEXT PRIMARY KEY REFERENCES articles(id) ON DELETE CASCADE,
    since REAL NOT NULL,
    audio_key TEXT,  -- the whole-article MP3 in the cache (what the podcast feed links to)
    audio_bytes INTEGER,
    audio_ms REAL
);
CREATE TABLE IF NOT EXISTS editions (
    source TEXT NOT NULL,
    voice TEXT NOT NULL,
    prosody TEXT NOT NULL,
    article TEXT NOT NULL REFERENCES articles(id) ON DELETE CASCADE,
    updated REAL NOT NULL,
    PRIMARY KEY (source, voice, prosody)
);
"""


class ArticleStore:
    """Articles and the clip keys of their segments, in one SQLite file."""

    def __init__(self, path: Path) -> None:
        self._db = open_database(path, SCHEMA)
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

    def exists(self, ident: str) -> bool:
        with self._lock:
            return self._db.execute("SELECT 1 FROM articles WHERE id = ?",
                                    (ident,)).fetchone() is not None

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

    # ------------------------------------------------------------ pins

    def pin(self, ident: str, keys: Iterable[str]) -> list[str]:
        """Hold exactly these clip keys for article ``ident`` (its pre-generated audio).

        Returns the keys the article held before and no article holds now: the caller unpins
        them in the cache (a lexicon change gives an article new keys; its old ones go).
        """
        wanted = set(keys)
        with self._lock, transaction(self._db) as db:
            held = {row[0] for row in db.execute(
                "SELECT key FROM pinned WHERE article = ?", (ident,))}
            db.executemany("DELETE FROM pinned WHERE article = ? AND key = ?",
                           [(ident, key) for key in held - wanted])
            db.executemany("INSERT OR IGNORE INTO pinned VALUES (?, ?)",
                           [(ident, key) for key in wanted - held])
            db.execute("INSERT OR IGNORE INTO pinned_articles (article, since) VALUES (?, ?)",
                       (ident, time.time()))
            return self._unheld(held - wanted)

    def unpin(self, ident: str) -> list[str]:
        """Release article ``ident``'s pins; returns the keys no other article holds."""
        self.get(ident)  # UnknownArticle for a wrong id
        with self._lock, transaction(self._db) as db:
            held = {row[0] for row in db.execute(
                "SELECT key FROM pinned WHERE article = ?", (ident,))}
            db.execute("DELETE FROM pinned WHERE article = ?", (ident,))
            db.execute("DELETE FROM pinned_articles WHERE article = ?", (ident,))
            return self._unheld(held)

    def _unheld(self, keys: Iterable[str]) -> list[str]:
        """Those of ``keys`` no article holds (inside the caller's transaction)."""
        return sorted(key for key in keys if self._db.execute(
            "SELECT 1 FROM pinned WHERE key = ? LIMIT 1", (key,)).fetchone() is None)

    def is_pinned(self, ident: str) -> bool:
        with self._lock:
            return self._db.execute("SELECT 1 FROM pinned_articles WHERE article = ?",
                                    (ident,)).fetchone() is not None

    def set_audio(self, ident: str, key: str, size: int, duration_ms: float) -> None:
        """Record a pinned article's whole-article MP3 (its cache key, size and length)."""
        with self._lock:
            self._db.execute("UPDATE pinned_articles SET audio_key = ?, audio_bytes = ?,"
                             " audio_ms = ? WHERE article = ?", (key, size, duration_ms, ident))

    def published(self, limit: int = 500) -> list[PublishedAudio]:
        """Pinned articles whose whole-article MP3 is made, newest publication first (then
        newest pinned): what the podcast feed lists."""
        with self._lock:
            rows = self._db.execute(
                "SELECT a.id, p.audio_key, p.audio_bytes, p.audio_ms, p.since"
                " FROM pinned_articles p JOIN articles a ON a.id = p.article"
                " WHERE p.audio_key IS NOT NULL"
                " ORDER BY coalesce(a.published, '') DESC, p.since DESC LIMIT ?",
                (limit,)).fetchall()
        return [PublishedAudio(self.get(row[0]), str(row[1]), int(row[2]), float(row[3]),
                               float(row[4])) for row in rows]

    # ------------------------------------------------------------ editions

    def new_edition(self, source: str, ident: str, voice: str, prosody: Prosody) -> str | None:
        """Record that ``source`` (a path or URL) now reads as article ``ident``; returns the
        article it read as before, if that was another one (the page was edited)."""
        prosody_json = json.dumps([prosody.rate, prosody.volume, prosody.pitch])
        with self._lock:
            row = self._db.execute(
                "SELECT article FROM editions WHERE source = ? AND voice = ? AND prosody = ?",
                (source, voice, prosody_json)).fetchone()
            self._db.execute("INSERT OR REPLACE INTO editions VALUES (?, ?, ?, ?, ?)",
                             (source, voice, prosody_json, ident, time.time()))
        previous = None if row is None else str(row[0])
        return previous if previous != ident else None

    def editions_of(self, ident: str) -> int:
        """How many sources read as article ``ident`` now."""
        with self._lock:
            return int(self._db.execute("SELECT count(*) FROM editions WHERE article = ?",
                                        (ident,)).fetchone()[0])

    def audio_key(self, ident: str) -> str | None:
        """The pinned article's whole-article MP3, if one was made."""
        with self._lock:
            row = self._db.execute("SELECT audio_key FROM pinned_articles WHERE article = ?",
                                   (ident,)).fetchone()
        return None if row is None or row[0] is None else str(row[0])

    def source_of(self, ident: str) -> str | None:
        """The source (path or URL identity) that reads as article ``ident`` now, if any."""
        with self._lock:
            row = self._db.execute("SELECT source FROM editions WHERE article = ?"
                                   " ORDER BY updated DESC LIMIT 1", (ident,)).fetchone()
        return None if row is None else str(row[0])

    def article_for(self, source: str) -> list[str]:
        """Articles a source (path or URL) reads as now, one per voice and prosody."""
        with self._lock:
            rows = self._db.execute("SELECT article FROM editions WHERE source = ?",
                                    (source,)).fetchall()
        return [str(row[0]) for row in rows]

    def count(self) -> int:
        with self._lock:
            return int(self._db.execute("SELECT count(*) FROM articles").fetchone()[0])

    def close(self) -> None:
        with self._lock:
            self._db.close()
