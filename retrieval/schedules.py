"""Digest schedules: at most one per server, kept in SQLite in the data directory so they
survive restarts, and which articles each server's digests have posted.

A schedule is due when its latest slot (today's time, or this week's for a weekly digest,
in the digest time zone) is later than the last slot it posted. After a downtime the missed
slot is posted once, never once per missed day.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path

from .sqlitefile import SqliteFile

DIGESTS_FILE = "digests.sqlite3"

_SCHEMA = """
CREATE TABLE IF NOT EXISTS schedules (
    guild_id    INTEGER PRIMARY KEY,
    channel_id  INTEGER NOT NULL,
    hour        INTEGER NOT NULL,
    minute      INTEGER NOT NULL,
    weekday     INTEGER,               -- 0 = Monday for a weekly digest, NULL for a daily one
    topic       TEXT NOT NULL DEFAULT '',
    created_at  REAL NOT NULL,         -- Unix seconds; slots before it are not owed
    last_slot   REAL,                  -- the latest slot posted
    last_posted REAL                   -- when the latest digest was made (its articles' start)
);
CREATE TABLE IF NOT EXISTS posted (
    guild_id  INTEGER NOT NULL,
    doc_id    TEXT NOT NULL,
    PRIMARY KEY (guild_id, doc_id)
);
"""


@dataclass(frozen=True)
class Schedule:
    guild_id: int
    channel_id: int
    hour: int
    minute: int
    weekday: int | None
    topic: str
    created_at: float
    last_slot: float | None
    last_posted: float | None

    def latest_slot(self, now: dt.datetime, zone: dt.tzinfo) -> dt.datetime:
        """The latest time at or before `now` that this digest is due."""
        local = now.astimezone(zone)
        slot = local.replace(hour=self.hour, minute=self.minute, second=0, microsecond=0)
        if self.weekday is not None:
            slot -= dt.timedelta(days=(local.weekday() - self.weekday) % 7)
        if slot > local:
            slot -= dt.timedelta(days=7 if self.weekday is not None else 1)
        return slot

    def due(self, now: dt.datetime, zone: dt.tzinfo) -> dt.datetime | None:
        """The slot to post now, or None when the latest one is posted (or predates the schedule)."""
        slot = self.latest_slot(now, zone)
        if slot.timestamp() <= max(self.last_slot or 0.0, self.created_at):
            return None
        return slot


class DigestStore(SqliteFile):
    """Digest schedules and what they posted; a short-lived connection per call (any thread)."""

    schema = _SCHEMA

    @classmethod
    def in_dir(cls, data_dir: Path) -> DigestStore:
        return cls(data_dir / DIGESTS_FILE)

    def set(self, guild_id: int, channel_id: int, hour: int, minute: int, weekday: int | None, topic: str,
            now: float) -> Schedule:
        """A server's schedule, replacing its previous one (what was posted stays posted)."""
        with self._db() as db:
            old = db.execute("SELECT last_posted FROM schedules WHERE guild_id = ?", (guild_id,)).fetchone()
            db.execute("INSERT OR REPLACE INTO schedules VALUES (?, ?, ?, ?, ?, ?, ?, NULL, ?)",
                       (guild_id, channel_id, hour, minute, weekday, topic, now, old[0] if old else None))
        return self.get(guild_id)

    def get(self, guild_id: int) -> Schedule | None:
        with self._db() as db:
            row = db.execute("SELECT * FROM schedules WHERE guild_id = ?", (guild_id,)).fetchone()
        return Schedule(**dict(row)) if row else None

    def all(self) -> list[Schedule]:
        with self._db() as db:
            return [Schedule(**dict(r)) for r in db.execute("SELECT * FROM schedules ORDER BY guild_id")]

    def remove(self, guild_id: int) -> bool:
        with self._db() as db:
            return bool(db.execute("DELETE FROM schedules WHERE guild_id = ?", (guild_id,)).rowcount)

    def posted(self, guild_id: int) -> set[str]:
        with self._db() as db:
            return {r[0] for r in db.execute("SELECT doc_id FROM posted WHERE guild_id = ?", (guild_id,))}

    def record(self, guild_id: int, doc_ids: list[str], *, slot: float | None, now: float) -> None:
        """A digest was posted: its articles are not posted again; `slot` is marked done."""
        with self._db() as db:
            db.executemany("INSERT OR IGNORE INTO posted VALUES (?, ?)", [(guild_id, d) for d in doc_ids])
            if slot is not None:
                db.execute("UPDATE schedules SET last_slot = ?, last_posted = ? WHERE guild_id = ?",
                           (slot, now, guild_id))
            else:
                db.execute("UPDATE schedules SET last_posted = ? WHERE guild_id = ?", (now, guild_id))


def digest_since(schedule: Schedule | None, now: dt.datetime, zone: dt.tzinfo) -> dt.date:
    """Where a digest starts: the day of the last one, else a day (a week) before now."""
    if schedule is not None and schedule.last_posted is not None:
        return dt.datetime.fromtimestamp(schedule.last_posted, zone).date()
    days = 7 if schedule is not None and schedule.weekday is not None else 1
    return (now.astimezone(zone) - dt.timedelta(days=days)).date()
