"""A small SQLite file in the data directory (feeds, digest schedules): the one way to open it.

Each call opens a short-lived connection in one transaction, so any thread may use the
store, and another process (the CLI while the bot runs) waits up to 30 s for a writer.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import closing, contextmanager
from pathlib import Path


class SqliteFile:
    """Subclasses set `schema` (CREATE … IF NOT EXISTS statements) and use `self._db()`."""

    schema = ""

    def __init__(self, path: Path):
        self.path = path
        path.parent.mkdir(parents=True, exist_ok=True)
        with self._db() as db:
            db.executescript(self.schema)

    @contextmanager
    def _db(self) -> Iterator[sqlite3.Connection]:
        with closing(sqlite3.connect(self.path, timeout=30)) as db:
            db.row_factory = sqlite3.Row
            with db:  # one transaction
                yield db
