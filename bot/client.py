"""The Discord client: wires the Newsdesk, the feedback store and the settings into discord.py."""

from __future__ import annotations

import asyncio
import datetime as dt
import functools
import gc
import logging
import time
from collections.abc import Awaitable, Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

import discord
import yarl
from discord import app_commands
from discord.ext import commands

from retrieval.errors import NewsdeskError
from retrieval.feeds import Poller, PollReport
from retrieval.models import Answer, SourceInfo
from retrieval.service import Newsdesk

from .checks import NotAdmin, QuestionBudget, cooldown_text
from .commands import Admin, Questions
from .config import BotSettings
from .digest import Digests, DigestStore, Schedule, post_due_digests, zone
from .feedback import FeedbackStore
from .feeds import Feeds, poll_forever, utcnow
from .mentions import Mentions
from .reindex import Reindexer
from .replies import APOLOGY, friendly, notify
from .streaming import EditThrottle
from .views import VoteButton

log = logging.getLogger(__name__)

T = TypeVar("T")


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

    def __init__(
        self,
        *,
        newsdesk: Newsdesk,
        feedback: FeedbackStore,
        settings: BotSettings,
        poller: Poller | None = None,
        digests: DigestStore | None = None,
        clock: Callable[[], dt.datetime] = utcnow,
        retrieval_threads: int = 4,
        **options: Any,
    ):
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
        self.newsdesk = newsdesk
        self.feedback = feedback
        self.settings = settings
        self.question_budget = QuestionBudget(settings.ask_cooldown_rate, settings.ask_cooldown_seconds)
        # Own thread pools: retrieval never waits behind other work of the default executor
        # (aiohttp resolves host names there), a reindex never takes a question's thread, and
        # SQLite writes happen one at a time.
        self._retrieval_pool = ThreadPoolExecutor(retrieval_threads, thread_name_prefix="newsdesk-retrieval")
        self._reindex_pool = ThreadPoolExecutor(1, thread_name_prefix="newsdesk-reindex")
        self._store_pool = ThreadPoolExecutor(1, thread_name_prefix="newsdesk-feedback")
        self.reindexer = Reindexer(
            newsdesk, settings.reindex_folders, prune=settings.reindex_prune, executor=self._reindex_pool
        )
        # Feeds (/feeds and the poll loop) and digests (/digest and the schedule loop), when given.
        self.poller = poller
        self.digests = digests
        self.clock = clock  # "now" for digest schedules and feed polls; tests inject their own
        self.timezone = zone(settings.digest_timezone)
        self._poll_pool = ThreadPoolExecutor(1, thread_name_prefix="newsdesk-feeds")
        self.poll_wakeup = asyncio.Event()
        self._loops: list[asyncio.Task] = []
        self.digest_checks = 0  # schedule checks made since start
        self.titles: list[SourceInfo] = []  # for /summary's autocomplete
        self.titles_at = 0.0  # time.monotonic() of the last refresh
        self._titles_task: asyncio.Task | None = None  # the first listing, started by setup_hook

    async def login(self, token: str) -> None:
        use_discord_endpoints(self.settings.discord_api_base, self.settings.discord_gateway_url)
        await super().login(token)

    async def setup_hook(self) -> None:
        self.add_dynamic_items(VoteButton)
        await self.add_cog(Questions(self))
        await self.add_cog(Admin(self))
        await self.add_cog(Mentions(self))
        if self.poller is not None:
            await self.add_cog(Feeds(self))
            if self.settings.feed_poll_seconds > 0:
                self._loops.append(asyncio.create_task(poll_forever(self), name="newsdesk-feed-poll"))
        if self.digests is not None:
            await self.add_cog(Digests(self))
            self._loops.append(asyncio.create_task(self._digest_loop(), name="newsdesk-digests"))
        if self.settings.warm_up:
            await self.warm_up()
            # What is loaded now (torch, transformers, the index: ~500k objects) lives as long as
            # the process. A full garbage collection rescans all of it, holding the GIL for ~0.4 s:
            # long enough to stall heartbeats and interaction acknowledgements. Freeze it instead.
            gc.freeze()
        # Listing the titles reads every article's metadata (seconds on a large archive): it goes
        # on in the background, so the commands are synced and the gateway connects meanwhile.
        self._titles_task = asyncio.create_task(self.refresh_titles(), name="newsdesk-titles")
        self._loops.append(self._titles_task)
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

    async def warm_up(self) -> None:
        """Load the model and the index now, so the first question is not the slow one."""
        try:
            await self.retrieve(self.newsdesk.search, "warm up", k=1)
        except NewsdeskError as exc:
            log.warning("Warm-up search failed: %s", exc)

    async def first_titles(self, timeout: float = 2.0) -> None:
        """Wait, briefly (autocomplete must answer within 3 s), for the titles listed at start."""
        if self._titles_task is not None and not self._titles_task.done():
            await asyncio.wait({self._titles_task}, timeout=timeout)

    async def refresh_titles(self) -> None:
        try:
            self.titles = await self.retrieve(self.newsdesk.sources)
            self.titles_at = time.monotonic()
        except NewsdeskError as exc:
            log.warning("Could not list the indexed articles: %s", exc)

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

    async def retrieve(self, func: Callable[..., T], /, *args: Any, **kwargs: Any) -> T:
        """Run one retrieval call in a worker thread, off the event loop."""
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._retrieval_pool, functools.partial(func, *args, **kwargs))

    async def store(self, func: Callable[..., T], /, *args: Any, **kwargs: Any) -> T:
        """Run one feedback-store call in its own thread."""
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._store_pool, functools.partial(func, *args, **kwargs))

    async def answer(
        self,
        question: str,
        *,
        as_of: dt.date,
        history: list[str] | None = None,
        show_partial: Callable[[str], Awaitable[None]] | None = None,
        via: str,
        user_id: int,
        guild_id: int | None = None,
        channel_id: int | None = None,
        thread_id: int | None = None,
    ) -> tuple[Answer, int]:
        """Ask the Newsdesk and record the answer; returns it with the id its feedback buttons carry.

        `as_of` is the day the question was asked (its message's date). When the Newsdesk's
        composer streams (an LLM), `show_partial(verified text so far)` is awaited on the event
        loop as the answer grows, at most once per STREAM_EDIT_SECONDS; the offline composer
        never streams, so then it is never called.
        """
        ask = functools.partial(self.newsdesk.ask, question, as_of=as_of, history=history or None)
        if show_partial is None or self.settings.stream_edit_seconds <= 0:
            answer = await self.retrieve(ask)
        else:
            throttle = EditThrottle(show_partial, self.settings.stream_edit_seconds)
            try:
                answer = await self.retrieve(ask, on_text=throttle.offer_threadsafe)
            finally:
                await throttle.finish()
        answer_id = await self.store(
            self.feedback.record_answer,
            via=via,
            user_id=user_id,
            question=question.strip(),
            answer=answer.text,
            abstained=answer.abstained,
            citations=len(answer.citations),
            abstained_because=answer.abstained_because,
            guild_id=guild_id,
            channel_id=channel_id,
            thread_id=thread_id,
        )
        return answer, answer_id

    # -- feeds and digests -----------------------------------------------------------------
    async def run_poll(self) -> PollReport:
        """Poll the due feeds in the poll thread (indexing takes the index's writer lock)."""
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._poll_pool, functools.partial(self.poller.poll, due_only=True))

    def wake_poller(self) -> None:
        """Poll now rather than at the next FEED_POLL_SECONDS (a feed was just added)."""
        self.poll_wakeup.set()

    def since(self, schedule: Schedule | None, now: dt.datetime) -> dt.date:
        """Where a digest starts: the day of the last one, else a day (a week) before now."""
        if schedule is not None and schedule.last_posted is not None:
            return dt.datetime.fromtimestamp(schedule.last_posted, self.timezone).date()
        days = 7 if schedule is not None and schedule.weekday is not None else 1
        return (now.astimezone(self.timezone) - dt.timedelta(days=days)).date()

    async def _digest_loop(self) -> None:
        await self.wait_until_ready()
        while not self.is_closed():
            try:
                await post_due_digests(self)
            except Exception:
                log.exception("Posting the due digests failed")
            self.digest_checks += 1
            await asyncio.sleep(self.settings.digest_check_seconds)

    async def close(self) -> None:
        for task in self._loops:
            task.cancel()
        await super().close()
        for pool in (self._retrieval_pool, self._reindex_pool, self._store_pool, self._poll_pool):
            pool.shutdown(wait=False, cancel_futures=True)
