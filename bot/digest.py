"""/digest: scheduled and on-demand digests of what is new in the archive.

A server has at most one schedule (`/digest set`; retrieval/schedules.py keeps them). The bot
checks the schedules every DIGEST_CHECK_SECONDS against the service's clock and posts the
due ones in DIGEST_TIMEZONE. Articles posted in a server's digest are not posted again in
its next one.
"""

from __future__ import annotations

import datetime as dt
import logging
import re
from zoneinfo import ZoneInfo

import discord
from discord import app_commands
from discord.ext import commands

from retrieval.app import NewsdeskApp
from retrieval.digest import Digest
from retrieval.errors import DateError, NewsdeskError
from retrieval.schedules import Schedule, digest_since

from . import formatting
from .checks import admin_only
from .config import BotSettings
from .replies import NO_MENTIONS, send

log = logging.getLogger(__name__)

_TIME = re.compile(r"^\s*([01]?\d|2[0-3]):([0-5]\d)\s*$")
DAYS = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"]


def parse_time(text: str) -> tuple[int, int]:
    match = _TIME.match(text or "")
    if match is None:
        raise DateError(f"“{text}” is not a time of day; use 24-hour HH:MM, e.g. 08:30")
    return int(match[1]), int(match[2])


def describe(schedule: Schedule, zone_name: str) -> str:
    """A schedule as Discord shows it: when, where (a channel link) and on what."""
    when = f"every {DAYS[schedule.weekday]}" if schedule.weekday is not None else "every day"
    about = f" on “{formatting.escape(schedule.topic)}”" if schedule.topic else ""
    return f"{when} at {schedule.hour:02d}:{schedule.minute:02d} ({zone_name}) in <#{schedule.channel_id}>{about}"


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

    def __init__(self, app: NewsdeskApp, settings: BotSettings, timezone: dt.tzinfo):
        self.app = app
        self.settings = settings  # admin_only reads the admin roles here
        self.timezone = timezone

    @digest.command(name="set")
    @app_commands.describe(channel="Where to post it", time="When, as HH:MM (24-hour) in the bot's time zone",
                           topic="Only stories on this topic", weekly="Once a week (on today's weekday)")
    @admin_only()
    async def set_(self, interaction: discord.Interaction, channel: app_commands.AppCommandChannel, time: str,
                   topic: str | None = None, weekly: bool = False) -> None:
        """Post a digest of what is new to a channel every day (or week) at a time (admins only)."""
        hour, minute = parse_time(time)
        weekday = self.app.clock().astimezone(self.timezone).weekday() if weekly else None
        schedule = await self.app.schedule_digest(interaction.guild_id, channel.id, hour, minute, weekday,
                                                  (topic or "").strip())
        await send(interaction, [f"Digest scheduled {describe(schedule, self.settings.digest_timezone)}."],
                   ephemeral=True)

    @digest.command(name="off")
    @admin_only()
    async def off(self, interaction: discord.Interaction) -> None:
        """Stop this server's scheduled digest (admins only)."""
        removed = await self.app.stop_digest(interaction.guild_id)
        await send(interaction, ["Scheduled digest stopped." if removed else "No digest is scheduled here."],
                   ephemeral=True)

    @digest.command(name="now")
    @app_commands.describe(topic="Only stories on this topic")
    async def now(self, interaction: discord.Interaction, topic: str | None = None) -> None:
        """A digest of what is new since the last one (or the last day), here and now."""
        await interaction.response.defer(thinking=True)
        schedule = await self.app.digest_schedule(interaction.guild_id)
        since = digest_since(schedule, self.app.clock(), self.timezone)
        digest = await self.app.digest(since, topic=(topic or "").strip() or None)
        await send(interaction, render_digest(digest, "What's new"))


async def post_due_digests(client: discord.Client, app: NewsdeskApp, timezone: dt.tzinfo) -> int:
    """Post every digest that is due at the service's clock; returns how many were posted."""
    now = app.clock()
    posted = 0
    for schedule in await app.digest_schedules():
        slot = schedule.due(now, timezone)
        if slot is None:
            continue
        since = digest_since(schedule, now, timezone)
        try:
            exclude = await app.posted_in(schedule.guild_id)
            digest = await app.digest(since, topic=schedule.topic or None, exclude=exclude)
        except NewsdeskError as exc:
            log.warning("Could not make the digest of server %s: %s", schedule.guild_id, exc)
            continue  # tried again at the next check
        # Recorded before it is sent: a bot stopped while sending never posts the slot twice.
        await app.record_digest(schedule.guild_id, digest.doc_ids, slot=slot.timestamp(), now=now.timestamp())
        channel = client.get_partial_messageable(schedule.channel_id, guild_id=schedule.guild_id)
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
