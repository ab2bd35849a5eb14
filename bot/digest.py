"""/digest: scheduled and on-demand digests of what is new in the archive.

A server has at most one schedule (`/digest set`), kept in SQLite in the data directory so it
survives restarts. The bot checks the schedules every DIGEST_CHECK_SECONDS against its clock:
a schedule is due when its latest slot (today's time, or this week's for a weekly digest, in
DIGEST_TIMEZONE) is later than the last slot it posted. After a downtime the missed slot is
posted once, never once per missed day. Articles posted in a server's digest are not posted
again in its next one.
"""

from __future__ import annotations

import datetime as dt
import logging
import re
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

import discord
from discord import app_commands
from discord.ext import commands

from retrieval.digest import Digest, make_digest
from retrieval.errors import DateError, NewsdeskError
from retrieval.sqlitefile import SqliteFile

from . import formatting
from .checks import admin_only
from .replies import NO_MENTIONS, send

if TYPE_CHECKING:
    from .client import NewsdeskBot

log = logging.getLogger(__name__)

DIGESTS_FILE = "digests.sqlite3"
_TIME = re.compile(r"^\s*([01]?\d|2[0-3]):([0-5]\d)\s*$")
DAYS = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"]

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


def parse_time(text: str) -> tuple[int, int]:
    match = _TIME.match(text or "")
    if match is None:
        raise DateError(f"“{text}” is not a time of day; use 24-hour HH:MM, e.g. 08:30")
    return int(match[1]), int(match[2])


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

    def describe(self, zone_name: str) -> str:
        when = f"every {DAYS[self.weekday]}" if self.weekday is not None else "every day"
        about = f" on “{formatting.escape(self.topic)}”" if self.topic else ""
        return f"{when} at {self.hour:02d}:{self.minute:02d} ({zone_name}) in <#{self.channel_id}>{about}"


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


def render_digest(digest: Digest, heading: str) -> list[str]:
    """The digest as messages of at most 2,000 characters; a story is never split between two
    unless it alone is longer than a message."""
    about = f" on “{formatting.escape(digest.topic)}”" if digest.topic else ""
    head = f"**{heading}**{about} · since {digest.since.isoformat()}"
    if not digest.stories:
        return [f"{head}\n\nNothing new in the archive{about} since {digest.since.isoformat()}."]
    blocks = [head]
    for story in digest.stories:
        c = story.citation
        lines = [f"**{formatting.escape(c.title or c.doc_id)}**"]
        if c.quote:
            lines.append(f"“{formatting.escape(c.quote)}” [{c.n}]")
        meta = ", ".join(formatting.escape(p) for p in (c.source, c.date) if p)
        source = f"[{c.n}] {meta}" + (f" {formatting.link(c.url)}" if c.url else "")
        if story.also_in:
            names = sorted({formatting.escape(o.source or o.title or o.doc_id) for o in story.also_in})
            source += " · also in: " + ", ".join(names)
        lines.append(source)
        blocks.append("\n".join(lines))
    return formatting.split_message("\n\n".join(blocks))


class Digests(commands.Cog):
    """Digests of what is new: scheduled by admins, or on demand."""

    digest = app_commands.Group(name="digest", description="Digests of what is new in the archive.", guild_only=True)

    def __init__(self, bot: NewsdeskBot):
        self.bot = bot
        self.store = bot.digests

    @digest.command(name="set")
    @app_commands.describe(channel="Where to post it", time="When, as HH:MM (24-hour) in the bot's time zone",
                           topic="Only stories on this topic", weekly="Once a week (on today's weekday)")
    @admin_only()
    async def set_(self, interaction: discord.Interaction, channel: app_commands.AppCommandChannel, time: str,
                   topic: str | None = None, weekly: bool = False) -> None:
        """Post a digest of what is new to a channel every day (or week) at a time (admins only)."""
        hour, minute = parse_time(time)
        now = self.bot.clock()
        weekday = now.astimezone(self.bot.timezone).weekday() if weekly else None
        schedule = await self.bot.store(self.store.set, interaction.guild_id, channel.id, hour, minute, weekday,
                                        (topic or "").strip(), now.timestamp())
        await send(interaction, [f"Digest scheduled {schedule.describe(self.bot.settings.digest_timezone)}."],
                   ephemeral=True)

    @digest.command(name="off")
    @admin_only()
    async def off(self, interaction: discord.Interaction) -> None:
        """Stop this server's scheduled digest (admins only)."""
        removed = await self.bot.store(self.store.remove, interaction.guild_id)
        await send(interaction, ["Scheduled digest stopped." if removed else "No digest is scheduled here."],
                   ephemeral=True)

    @digest.command(name="now")
    @app_commands.describe(topic="Only stories on this topic")
    async def now(self, interaction: discord.Interaction, topic: str | None = None) -> None:
        """A digest of what is new since the last one (or the last day), here and now."""
        await interaction.response.defer(thinking=True)
        now = self.bot.clock()
        schedule = await self.bot.store(self.store.get, interaction.guild_id)
        since = self.bot.since(schedule, now)
        digest = await self.bot.retrieve(make_digest, self.bot.newsdesk, since, topic=(topic or "").strip() or None)
        await send(interaction, render_digest(digest, "What's new"))


async def post_due_digests(bot: NewsdeskBot) -> int:
    """Post every digest that is due at the bot's clock; returns how many were posted."""
    now = bot.clock()
    posted = 0
    for schedule in await bot.store(bot.digests.all):
        slot = schedule.due(now, bot.timezone)
        if slot is None:
            continue
        since = bot.since(schedule, now)
        try:
            exclude = await bot.store(bot.digests.posted, schedule.guild_id)
            digest = await bot.retrieve(make_digest, bot.newsdesk, since, topic=schedule.topic or None,
                                        exclude=exclude)
        except NewsdeskError as exc:
            log.warning("Could not make the digest of server %s: %s", schedule.guild_id, exc)
            continue  # tried again at the next check
        # Recorded before it is sent: a bot stopped while sending never posts the slot twice.
        await bot.store(bot.digests.record, schedule.guild_id, digest.doc_ids, slot=slot.timestamp(),
                        now=now.timestamp())
        channel = bot.get_partial_messageable(schedule.channel_id, guild_id=schedule.guild_id)
        heading = "Weekly digest" if schedule.weekday is not None else "Daily digest"
        try:
            for part in render_digest(digest, heading):
                await channel.send(part, allowed_mentions=NO_MENTIONS)
        except discord.HTTPException as exc:
            log.warning("Could not post the digest of server %s in channel %s: %s", schedule.guild_id,
                        schedule.channel_id, exc)
            continue
        posted += 1
    return posted


def zone(name: str) -> ZoneInfo:
    return ZoneInfo(name)
