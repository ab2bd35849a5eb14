"""The Discord client: gives the application service and the settings to the cogs, and runs
the loops (feed polls, due digests) for as long as it is connected."""

from __future__ import annotations

import asyncio
import gc
import logging
from typing import Any

import discord
import yarl
from discord import app_commands
from discord.ext import commands

from retrieval.app import NewsdeskApp
from retrieval.errors import NewsdeskError

from .checks import NotAdmin, QuestionBudget, cooldown_text
from .commands import Admin, Questions
from .config import BotSettings
from .digest import Digests, post_due_digests, zone
from .feeds import Feeds
from .mentions import Mentions
from .replies import APOLOGY, friendly, notify
from .views import Votes

log = logging.getLogger(__name__)


def use_discord_endpoints(api_base: str, gateway_url: str) -> None:
    """Point discord.py at a Discord-compatible server.

    discord.py reads both from class attributes (REST at request time, the gateway when it
    connects), so this is process-wide: one process talks to one Discord.
    """
    discord.http.Route.BASE = api_base.rstrip("/")
    discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY = yarl.URL(gateway_url)


def intents_for(settings: BotSettings) -> discord.Intents:
    """Servers, their messages and DMs; message content only when asked for (it is privileged)."""
    intents = discord.Intents.none()
    intents.guilds = True
    intents.guild_messages = True
    intents.dm_messages = True
    intents.message_content = settings.message_content_intent
    return intents


class NewsdeskTree(app_commands.CommandTree):
    """Maps what went wrong in a command to a reply the user can act on."""

    async def on_error(self, interaction: discord.Interaction, error: app_commands.AppCommandError) -> None:
        original = getattr(error, "original", error)
        if interaction.type is discord.InteractionType.autocomplete:
            log.error("Autocomplete for %s failed", interaction.command, exc_info=original)
            return
        if isinstance(error, app_commands.CommandOnCooldown):
            text = cooldown_text(error.retry_after)
        elif isinstance(error, NotAdmin):
            text = str(error)
        elif isinstance(error, app_commands.NoPrivateMessage):
            text = "That command only works in a server."
        elif isinstance(error, app_commands.CheckFailure):
            text = "You can't use that command here."
        elif isinstance(original, NewsdeskError):
            text = friendly(original)
        else:
            name = interaction.command.qualified_name if interaction.command else "?"
            log.error("Command /%s failed", name, exc_info=original)
            text = APOLOGY
        try:
            await notify(interaction, text)
        except discord.HTTPException:
            log.exception("Could not report an error to the user of interaction %s", interaction.id)


class NewsdeskBot(commands.Bot):
    """Newsdesk on Discord. Dependencies come in; nothing here reads the environment."""

    def __init__(self, *, app: NewsdeskApp, settings: BotSettings, **options: Any):
        options.setdefault("allowed_mentions", discord.AllowedMentions.none())
        # A text-only bot: no start-up warnings about missing voice libraries.
        discord.VoiceClient.warn_nacl = discord.VoiceClient.warn_dave = False
        super().__init__(
            command_prefix=commands.when_mentioned,  # unused: there are no prefix commands
            intents=intents_for(settings),
            help_command=None,
            tree_cls=NewsdeskTree,
            **options,
        )
        self.app = app
        self.settings = settings
        # One budget per person, shared by /ask, /summary and mentions.
        self.question_budget = QuestionBudget(settings.ask_cooldown_rate, settings.ask_cooldown_seconds)
        self.timezone = zone(settings.digest_timezone)
        self._loops: list[asyncio.Task] = []
        self.digest_checks = 0  # schedule checks made since start

    async def login(self, token: str) -> None:
        use_discord_endpoints(self.settings.discord_api_base, self.settings.discord_gateway_url)
        await super().login(token)

    async def setup_hook(self) -> None:
        app, settings, budget = self.app, self.settings, self.question_budget
        await self.add_cog(Questions(app, settings, budget))
        await self.add_cog(Admin(app, settings))
        await self.add_cog(Mentions(app, settings, budget))
        await self.add_cog(Votes(app))
        if app.poller is not None:
            await self.add_cog(Feeds(app, settings))
            if settings.feed_poll_seconds > 0:
                self._loops.append(asyncio.create_task(self._poll_loop(), name="newsdesk-feed-poll"))
        if app.schedules is not None:
            await self.add_cog(Digests(app, settings, self.timezone))
            self._loops.append(asyncio.create_task(self._digest_loop(), name="newsdesk-digests"))
        if settings.warm_up:
            await app.warm_up()
            # What is loaded now (torch, transformers, the index: ~500k objects) lives as long as
            # the process. A full garbage collection rescans all of it, holding the GIL for ~0.4 s:
            # long enough to stall heartbeats and interaction acknowledgements. Freeze it instead.
            gc.freeze()
        # Listed in the background: the commands are synced and the gateway connects meanwhile.
        self._loops.append(app.list_titles_in_background())
        await self.sync_commands()

    async def sync_commands(self) -> None:
        guild_ids = self.settings.discord_guild_ids
        if not guild_ids:
            synced = await self.tree.sync()
            log.info("Synced %d commands globally (they can take up to an hour to appear)", len(synced))
            return
        for guild_id in guild_ids:
            guild = discord.Object(guild_id)
            self.tree.copy_global_to(guild=guild)
            synced = await self.tree.sync(guild=guild)
            log.info("Synced %d commands to guild %s", len(synced), guild_id)

    async def on_message(self, message: discord.Message) -> None:
        """No prefix commands; questions by mention are handled by the Mentions cog."""

    def dispatch(self, event_name: str, /, *args: Any, **kwargs: Any) -> None:
        # discord.py still dispatches for a moment after close() began (a command finishing,
        # the gateway's "disconnect"); once it has dropped its loop that fails and leaves
        # never-awaited coroutines behind. Nothing needs to react after closing.
        if self.is_closed():
            return
        super().dispatch(event_name, *args, **kwargs)

    async def on_ready(self) -> None:
        log.info("Logged in as %s (%s) in %d servers", self.user, getattr(self.user, "id", "?"), len(self.guilds))

    async def _poll_loop(self) -> None:
        await self.wait_until_ready()
        await self.app.poll_forever(self.settings.feed_poll_seconds)

    async def _digest_loop(self) -> None:
        await self.wait_until_ready()
        while not self.is_closed():
            try:
                await post_due_digests(self, self.app, self.timezone)
            except Exception:
                log.exception("Posting the due digests failed")
            self.digest_checks += 1
            await asyncio.sleep(self.settings.digest_check_seconds)

    async def close(self) -> None:
        for task in self._loops:
            task.cancel()
        await super().close()
