"""The service's SQLite files (articles, jobs, the audio cache's index): opening, writing.

Each is shared by threads (callers hold a lock around a connection) and by processes (WAL:
`reader pregen` and the service use the same files).
"""

from __future__ import annotations

import contextlib
import sqlite3
from collections.abc import Iterator
from pathlib import Path


def open_database(path: Path, schema: str) -> sqlite3.Connection:
    """Connect to ``path`` (created with ``schema`` if new) for use from several threads."""
    path.parent.mkdir(parents=True, exist_ok=True)
    db = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
    db.execute("PRAGMA journal_mode=WAL")
    db.execute("PRAGMA synchronous=NORMAL")
    db.execute("PRAGMA foreign_keys=ON")
    db.execute("PRAGMA busy_timeout=10000")  # another process's write: wait, do not fail
    db.executescript(schema)
    return db


@contextlib.contextmanager
def transaction(db: sqlite3.Connection) -> Iterator[sqlite3.Connection]:
    """One write transaction: all of it or none (the caller holds the connection's lock)."""
    db.execute("BEGIN IMMEDIATE")
    try:
        yield db
        db.execute("COMMIT")
    except BaseException:
        if db.in_transaction:  # COMMIT itself may fail (busy, disk full)
            db.execute("ROLLBACK")
        raise
