"""/feeds (admins): follow, list and stop following feeds. The application service polls
them (retrieval/app.py) in its own worker thread, so answering never waits for a poll."""

from __future__ import annotations

import logging

import discord
from discord import app_commands
from discord.ext import commands

from retrieval.app import NewsdeskApp
from retrieval.errors import FeedError
from retrieval.feedstore import FeedInfo, format_every, parse_every

from . import formatting
from .checks import admin_only
from .config import BotSettings
from .replies import send

log = logging.getLogger(__name__)


def _when(timestamp: float | None) -> str:
    if timestamp is None:
        return "never"
    return f"<t:{int(timestamp)}:R>"  # Discord shows it in each reader's time zone


def render_feeds(feeds: list[FeedInfo]) -> list[str]:
    if not feeds:
        return ["No feeds are followed. An admin can add one with `/feeds add url:`."]
    lines = [f"**{len(feeds)} feed{'' if len(feeds) == 1 else 's'} followed**", ""]
    for f in feeds:
        lines.append(f"**{formatting.escape(f.title or '(not read yet)')}** {formatting.link(f.url)}")
        lines.append(f.status(_when))
        if f.last_error:
            lines.append(f"⚠️ {formatting.escape(formatting.shorten(f.last_error, 400))}")
        lines.append("")
    return formatting.split_message("\n".join(lines))


class Feeds(commands.Cog):
    """Following feeds (admins only)."""

    feeds = app_commands.Group(name="feeds", description="Follow news feeds (admins only).", guild_only=True,
                               default_permissions=discord.Permissions(manage_guild=True))

    def __init__(self, app: NewsdeskApp, settings: BotSettings):
        self.app = app
        self.settings = settings  # admin_only reads the admin roles here

    @feeds.command(name="add")
    @app_commands.describe(url="The feed's address (RSS, Atom or JSON Feed)", every="How often to poll it: 30m, 2h, 1d")
    @admin_only()
    async def add(self, interaction: discord.Interaction, url: str, every: str | None = None) -> None:
        """Follow a feed: its entries become articles (admins only)."""
        url = url.strip()
        if not url.lower().startswith(("http://", "https://")):
            raise FeedError(f"{url} is not an http(s) address")
        seconds = parse_every(every or format_every(self.app.feed_every_s))
        info = await self.app.follow_feed(url, seconds)
        await send(interaction, [f"Following {formatting.link(url)}, polled every {format_every(info.every_s)}; "
                                 "its entries are read within a minute."], ephemeral=True)

    @feeds.command(name="list")
    @admin_only()
    async def list_(self, interaction: discord.Interaction) -> None:
        """The followed feeds: title, items, last success, last error, next poll (admins only)."""
        found = await self.app.feeds()
        await send(interaction, render_feeds(found), ephemeral=True)

    @feeds.command(name="remove")
    @app_commands.describe(url="The feed's address, as /feeds list shows it")
    @admin_only()
    async def remove(self, interaction: discord.Interaction, url: str) -> None:
        """Stop following a feed; its articles stay in the archive (admins only)."""
        await self.app.unfollow_feed(url.strip())
        await send(interaction, [f"No longer following {formatting.link(url.strip())}; its articles stay indexed."],
                   ephemeral=True)
