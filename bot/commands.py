"""The slash commands. Each one defers, makes one call of the application service, and formats."""

from __future__ import annotations

import asyncio
import logging
import time

import discord
from discord import app_commands
from discord.ext import commands

from retrieval.app import NewsdeskApp, parse_day, summary_kind
from retrieval.errors import NewsdeskError, QuestionError
from retrieval.question import check_question

from . import formatting
from .checks import QuestionBudget, admin_only, question_cooldown
from .config import BotSettings
from .replies import NO_MENTIONS, friendly, notify, replace_reply, send
from .streaming import ask_streaming
from .views import feedback_view

log = logging.getLogger(__name__)

TITLES_MAX_AGE = 300.0  # seconds before autocomplete re-reads the indexed titles

HELP = """\
**Newsdesk** answers questions about the news archive, citing its sources.

`/ask question:` ask anything; the answer cites numbered sources, with links.
Mention me with a question in a channel: I answer in a thread, and follow-ups in that thread build on the earlier questions.
`/summary` summarize an `article:` (start typing a title), a `topic:`, or the news `since:`/`until:` two dates (2023-12-21).
`/sources` what is indexed: counts, dates and titles.
`/digest now` what is new, as cited stories; `/digest set` (admins) posts one to a channel every day or week.
`/feeds` (admins) follow news feeds: the archive then stays current by itself.
`/reindex` (admins) re-read the article folders. `/stats` (admins) questions, feedback and unanswered questions.
Rate answers with 👍/👎: it shows where the archive falls short."""


class Questions(commands.Cog):
    """Questions, summaries and the catalogue: open to everyone."""

    def __init__(self, app: NewsdeskApp, settings: BotSettings, budget: QuestionBudget):
        self.app = app
        self.settings = settings
        self.budget = budget  # spent by question_cooldown
        self._refreshing: asyncio.Task | None = None

    @app_commands.command()
    @app_commands.describe(question="What do you want to know? e.g. Which border crossings closed?")
    @question_cooldown()
    async def ask(self, interaction: discord.Interaction, question: str) -> None:
        """Ask a question about the news archive; the answer cites its sources."""
        # Checked before deferring: an empty or overlong question gets a private note, not a
        # thinking message. The checked question is what the service asks (and checks no more).
        question = check_question(question)
        await interaction.response.defer(thinking=True)
        shown: list[str] = []

        async def show_partial(text: str) -> None:  # an LLM's answer streaming in: edit the reply
            content = formatting.render_partial(text)
            if content not in shown[-1:]:
                await interaction.edit_original_response(content=content, allowed_mentions=NO_MENTIONS)
                shown.append(content)

        answer, answer_id = await ask_streaming(
            self.app,
            question,
            show_partial,
            self.settings.stream_edit_seconds,
            as_of=interaction.created_at.date(),
            via="slash",
            user_id=interaction.user.id,
            guild_id=interaction.guild_id,
            channel_id=interaction.channel_id,
        )
        parts = formatting.render_answer(answer)
        if shown:
            await replace_reply(interaction, parts, view=feedback_view(answer_id))
        else:
            await send(interaction, parts, view=feedback_view(answer_id))

    @app_commands.command()
    @app_commands.describe(
        article="An article: start typing its title",
        topic="A topic to summarize across articles",
        since="Summarize the news from this date (YYYY-MM-DD)",
        until="…up to this date (YYYY-MM-DD; default: today)",
    )
    @question_cooldown()
    async def summary(
        self,
        interaction: discord.Interaction,
        article: str | None = None,
        topic: str | None = None,
        since: str | None = None,
        until: str | None = None,
    ) -> None:
        """Summarize an article, a topic, or the news between two dates."""
        try:
            summary_kind(article, topic, since, until)
        except QuestionError as exc:
            await notify(interaction, str(exc))
            return
        if topic is not None:
            topic = check_question(topic)  # before deferring, as for /ask
        start = parse_day(since, "since") if since is not None else None
        end = parse_day(until, "until") if until is not None else None
        await interaction.response.defer(thinking=True)
        as_of = interaction.created_at.date()
        if article is not None:
            # an id (what autocomplete fills in) or a title: retrieval resolves either
            result = await self.app.summarize_article(article)
        elif topic is not None:
            result = await self.app.summarize_topic(topic, as_of=as_of)
        else:
            result = await self.app.summarize_dates(start, end, as_of=as_of)
        await send(interaction, formatting.render_summary(result))

    @summary.autocomplete("article")
    async def _article_choices(self, interaction: discord.Interaction, current: str) -> list[app_commands.Choice[str]]:
        await self.app.first_titles()
        if time.monotonic() - self.app.titles_at > TITLES_MAX_AGE and not self._refreshing:
            # the index may have changed from the command line: refresh for the next keystroke
            self._refreshing = asyncio.create_task(self.app.refresh_titles())
            self._refreshing.add_done_callback(lambda _: setattr(self, "_refreshing", None))
        wanted = current.casefold().strip()
        found = [s for s in self.app.titles if wanted in (s.title or s.doc_id).casefold()]
        found.sort(key=lambda s: (s.date or "", s.title), reverse=True)
        # Discord caps a choice's name and value at 100 characters; a longer id (a URL, say)
        # is sent as the title, which retrieval resolves too.
        return [
            app_commands.Choice(
                name=formatting.shorten(s.title or s.doc_id, 100),
                value=s.doc_id if len(s.doc_id) <= 100 else s.title[:100],
            )
            for s in found[:25]
        ]

    @app_commands.command()
    @app_commands.describe(page="Which page of titles")
    async def sources(self, interaction: discord.Interaction, page: app_commands.Range[int, 1] = 1) -> None:
        """What is indexed: how many articles, their dates, and their titles."""
        await interaction.response.defer(thinking=True)
        found = await self.app.sources()
        text = formatting.render_sources(found, page=page, page_size=self.settings.sources_page_size)
        await send(interaction, [text])

    @app_commands.command(name="help")
    async def help_(self, interaction: discord.Interaction) -> None:
        """How to use Newsdesk."""
        await send(interaction, [HELP], ephemeral=True)


class Admin(commands.Cog):
    """Commands for server admins (Manage Server, or a role in ADMIN_ROLE_IDS)."""

    def __init__(self, app: NewsdeskApp, settings: BotSettings):
        self.app = app
        self.settings = settings  # admin_only reads the admin roles here

    @app_commands.command()
    @app_commands.guild_only()
    @app_commands.default_permissions(manage_guild=True)
    @admin_only()
    async def reindex(self, interaction: discord.Interaction) -> None:
        """Re-index the article folders in the background (admins only)."""
        job = self.app.start_reindex(started_by=interaction.user.id)
        folders = [str(f) for f in self.app.reindex_folders]
        if job is None:
            running = self.app.current_reindex
            await notify(
                interaction,
                f"A reindex is already running ({running.done}/{running.total} chunks embedded, "
                f"started by <@{running.started_by}>); "
                "its reply will show the counts when it ends.",
            )
            return
        await interaction.response.send_message(formatting.render_progress(0, 0, folders), allowed_mentions=NO_MENTIONS)
        await self._follow(job, interaction, folders)

    async def _follow(self, job, interaction: discord.Interaction, folders: list[str]) -> None:
        """Edit the reply with the progress until the job ends, then with its counts."""
        shown = formatting.render_progress(0, 0, folders)
        reply_works = True
        while True:
            finished, _ = await asyncio.wait({job.task}, timeout=self.settings.reindex_progress_seconds)
            if finished:
                break
            text = formatting.render_progress(job.done, job.total, folders)
            if reply_works and text != shown:
                reply_works = await self._edit(interaction, text)
                shown = text
        try:
            report = job.task.result()
        except NewsdeskError as exc:
            parts = [f"Reindex failed: {friendly(exc)}"]
        except Exception:
            log.exception("Reindex of %s failed", folders)
            parts = ["Reindex failed unexpectedly; the error has been logged."]
        else:
            log.info("Reindex of %s: %s", folders, report.to_dict())
            parts = formatting.render_report(report, folders)
            await self.app.refresh_titles()
        if reply_works and await self._edit(interaction, parts[0]):
            for part in parts[1:]:
                await interaction.followup.send(part, allowed_mentions=NO_MENTIONS)
            return
        # The interaction's token lasts 15 minutes: a longer reindex reports in the channel.
        channel = interaction.channel
        if channel is None or not hasattr(channel, "send"):
            log.warning("Reindex finished but its reply has expired and the channel is unknown")
            return
        for part in parts:
            await channel.send(part, allowed_mentions=NO_MENTIONS)

    @staticmethod
    async def _edit(interaction: discord.Interaction, text: str) -> bool:
        """Edit the command's reply; False when that is no longer possible."""
        try:
            await interaction.edit_original_response(content=text, allowed_mentions=NO_MENTIONS)
        except discord.HTTPException as exc:
            log.info("Cannot edit the /reindex reply any more (%s)", exc)
            return False
        return True

    @app_commands.command()
    @app_commands.guild_only()
    @app_commands.default_permissions(manage_guild=True)
    @admin_only()
    async def stats(self, interaction: discord.Interaction) -> None:
        """Questions asked, abstentions, feedback, and the most frequent unanswered questions (admins only)."""
        stats = await self.app.stats()
        lines = [
            f"**Questions asked:** {stats.questions}",
            f"**Unanswered (abstained):** {stats.abstained} ({stats.abstention_rate:.0%})",
            # Why: "older articles" asks for fresher news to be indexed; "no passage is close"
            # for articles on the topic at all.
            *(f"- {reason or 'reason not recorded'}: {n}" for reason, n in stats.reasons),
            f"**Feedback:** 👍 {stats.votes_up} · 👎 {stats.votes_down}",
        ]
        if stats.unanswered:
            lines += ["", "**Most frequent unanswered questions**"]
            lines += [f"{n}× {formatting.escape(q)}" for q, n in stats.unanswered]
        await send(interaction, formatting.split_message("\n".join(lines)), ephemeral=True)
