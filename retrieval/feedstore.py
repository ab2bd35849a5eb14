"""The followed feeds and what was read from them, in SQLite in the data directory.

Per feed: its schedule, the validators of its last answer (ETag, Last-Modified) for
conditional GETs, when it last succeeded, its last error, when it is next due and how many
polls in a row failed (for back-off). Per entry: the hash of what the feed said about it, so
an unchanged entry costs neither a page fetch nor an embedding. Each call opens its own
short-lived connection, so the store can be used from any thread and survives restarts.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path

from .errors import FeedError, NotFoundError
from .sqlitefile import SqliteFile

FEEDS_FILE = "feeds.sqlite3"

_SCHEMA = """
CREATE TABLE IF NOT EXISTS feeds (
    url           TEXT PRIMARY KEY,
    title         TEXT NOT NULL DEFAULT '',
    every_s       REAL NOT NULL,
    added_at      REAL NOT NULL,
    etag          TEXT,
    last_modified TEXT,
    last_polled   REAL,
    last_success  REAL,
    last_error    TEXT NOT NULL DEFAULT '',
    next_poll     REAL NOT NULL,
    failures      INTEGER NOT NULL DEFAULT 0   -- polls in a row that failed: the back-off
);
CREATE TABLE IF NOT EXISTS entries (
    feed_url  TEXT NOT NULL,
    entry_id  TEXT NOT NULL,
    doc_id    TEXT NOT NULL,
    hash      TEXT NOT NULL,
    seen_at   REAL NOT NULL,
    PRIMARY KEY (feed_url, entry_id)
);
"""


def _iso(timestamp: float | None) -> str:
    if timestamp is None:
        return ""
    return dt.datetime.fromtimestamp(timestamp, dt.UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


@dataclass(frozen=True)
class FeedInfo:
    """One followed feed, as `feeds list` shows it (times are Unix seconds, UTC)."""

    url: str
    title: str
    every_s: float
    items: int
    etag: str | None
    last_modified: str | None
    last_polled: float | None
    last_success: float | None
    last_error: str
    next_poll: float
    failures: int

    def status(self, when: Callable[[float | None], str]) -> str:
        """"every 30m · 12 items · last success … · next poll …", the times written by `when`
        (the terminal prints UTC, Discord its relative timestamps)."""
        items = f"{self.items} item{'' if self.items == 1 else 's'}"
        return (f"every {format_every(self.every_s)} · {items} · last success {when(self.last_success)} · "
                f"next poll {when(self.next_poll)}")

    def to_dict(self) -> dict:
        data = asdict(self)
        for key in ("last_polled", "last_success", "next_poll"):
            data[key] = _iso(data[key]) or None
        return data


class FeedStore(SqliteFile):
    schema = _SCHEMA

    @classmethod
    def in_dir(cls, data_dir: Path) -> FeedStore:
        return cls(data_dir / FEEDS_FILE)

    def add(self, url: str, every_s: float, now: float) -> FeedInfo:
        """Follow `url` (due at once); for a feed already followed, change its schedule."""
        with self._db() as db:
            updated = db.execute("UPDATE feeds SET every_s = ? WHERE url = ?", (every_s, url)).rowcount
            if not updated:
                db.execute("INSERT INTO feeds (url, every_s, added_at, next_poll) VALUES (?, ?, ?, ?)",
                           (url, every_s, now, now))
        return self.get(url)

    def remove(self, url: str) -> None:
        """Stop following `url`; what was indexed from it stays in the archive."""
        with self._db() as db:
            if not db.execute("DELETE FROM feeds WHERE url = ?", (url,)).rowcount:
                raise NotFoundError(f"no feed {url!r} is followed (see `newsdesk feeds list`)")
            db.execute("DELETE FROM entries WHERE feed_url = ?", (url,))

    def get(self, url: str) -> FeedInfo:
        found = [f for f in self.list() if f.url == url]
        if not found:
            raise NotFoundError(f"no feed {url!r} is followed (see `newsdesk feeds list`)")
        return found[0]

    def list(self) -> list[FeedInfo]:
        """Every followed feed, in the order they were added."""
        with self._db() as db:
            rows = db.execute(
                "SELECT f.*, (SELECT COUNT(*) FROM entries e WHERE e.feed_url = f.url) AS items "
                "FROM feeds f ORDER BY added_at, url").fetchall()
        return [FeedInfo(url=r["url"], title=r["title"], every_s=r["every_s"], items=r["items"], etag=r["etag"],
                         last_modified=r["last_modified"], last_polled=r["last_polled"],
                         last_success=r["last_success"], last_error=r["last_error"], next_poll=r["next_poll"],
                         failures=r["failures"]) for r in rows]

    def due(self, now: float) -> list[FeedInfo]:
        return [f for f in self.list() if f.next_poll <= now]

    def next_due(self) -> float | None:
        """When the next feed is due (Unix seconds), None when no feed is followed."""
        with self._db() as db:
            row = db.execute("SELECT MIN(next_poll) FROM feeds").fetchone()
        return row[0]

    def entry_hashes(self, url: str) -> dict[str, str]:
        """entry id -> hash of what the feed last said about it."""
        with self._db() as db:
            return dict(db.execute("SELECT entry_id, hash FROM entries WHERE feed_url = ?", (url,)).fetchall())

    def record_poll(self, url: str, *, now: float, next_poll: float, title: str | None = None,
                    etag: str | None = None, last_modified: str | None = None, error: str = "",
                    success: bool = True, entries: dict[str, tuple[str, str]] | None = None) -> None:
        """What one poll of `url` found. `success`: the feed was read (its entries' own errors,
        if any, are in `error`); `entries`: entry id -> (article id, hash) indexed."""
        with self._db() as db:
            if success:
                fields = ("last_polled = ?, last_success = ?, last_error = ?, next_poll = ?, failures = 0, "
                          "etag = ?, last_modified = ?")
                values: list = [now, now, error, next_poll, etag, last_modified]
                if title:
                    fields += ", title = ?"
                    values.append(title)
            else:
                fields = "last_polled = ?, last_error = ?, next_poll = ?, failures = failures + 1"
                values = [now, error, next_poll]
            if not db.execute(f"UPDATE feeds SET {fields} WHERE url = ?", (*values, url)).rowcount:
                return  # removed while it was polled
            db.executemany("INSERT OR REPLACE INTO entries (feed_url, entry_id, doc_id, hash, seen_at) "
                           "VALUES (?, ?, ?, ?, ?)",
                           [(url, eid, doc_id, digest, now) for eid, (doc_id, digest) in (entries or {}).items()])

    def postpone(self, url: str, next_poll: float) -> None:
        """Try `url` again at `next_poll`, without counting a failure (the index was busy)."""
        with self._db() as db:
            db.execute("UPDATE feeds SET next_poll = ? WHERE url = ?", (next_poll, url))


def parse_every(text: str) -> float:
    """A poll interval like "30m", "2h", "90s", "1d" (or plain seconds) in seconds; at least 60 s."""
    value = text.strip().lower()
    units = {"s": 1, "m": 60, "h": 3600, "d": 86400}
    try:
        seconds = float(value[:-1]) * units[value[-1]] if value and value[-1] in units else float(value)
    except ValueError:
        raise FeedError(f"{text!r} is not an interval: use e.g. 30m, 2h, 1d") from None
    if seconds < 60:
        raise FeedError(f"{text!r} is too often: poll a feed at most once a minute")
    return seconds


def format_every(seconds: float) -> str:
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds >= size and seconds % size == 0:
            return f"{int(seconds // size)}{unit}"
    return f"{int(seconds)}s"
