"""Questions asked by mentioning the bot, answered in a thread that remembers them."""

from __future__ import annotations

import contextlib
import logging
import re
from collections.abc import Sequence

import discord
from discord.ext import commands

from retrieval.app import NewsdeskApp
from retrieval.errors import NewsdeskError
from retrieval.question import collapse

from . import formatting
from .checks import QuestionBudget, cooldown_text
from .config import BotSettings
from .replies import APOLOGY, NO_MENTIONS, friendly
from .streaming import ask_streaming
from .views import feedback_view

log = logging.getLogger(__name__)

THREAD_NAME_LIMIT = 100


def thread_name(question: str) -> str:
    name = collapse(question) or "Question"
    return name if len(name) <= THREAD_NAME_LIMIT else name[: THREAD_NAME_LIMIT - 1] + "…"


class Mentions(commands.Cog):
    """"@Newsdesk which crossings closed?" → an answer in a new thread; follow-ups in it build on it."""

    def __init__(self, app: NewsdeskApp, settings: BotSettings, budget: QuestionBudget):
        self.app = app
        self.settings = settings
        self.budget = budget

    def _question(self, message: discord.Message) -> str | None:
        """The question in a message meant for the bot, or None if it is not for the bot."""
        # The bot's own user, as the message's server or DM channel knows it.
        me = message.guild.me if message.guild is not None else getattr(message.channel, "me", None)
        if me is None or message.author.bot:
            return None
        mentioned = me.id in message.raw_mentions or any(u.id == me.id for u in message.mentions)
        text = re.sub(rf"<@!?{me.id}>", " ", message.content).strip()
        if mentioned:
            return text
        if message.guild is None:  # a direct message is always for the bot (and its content is always sent)
            return text or None
        # Without a mention, only with the message-content intent: ask channels, and the bot's threads.
        if not text:
            return None
        channel = message.channel
        if channel.id in self.settings.ask_channel_ids:
            return text
        if isinstance(channel, discord.Thread) and channel.owner_id == me.id:
            return text
        return None

    @commands.Cog.listener()
    async def on_message(self, message: discord.Message) -> None:
        question = self._question(message)
        if question is None:
            return
        reply_to = message.channel
        streamed: list[discord.Message] = []  # the reply an LLM's answer streams into, once there is one
        try:
            if not question:
                await message.reply(
                    "Ask me a question after the mention, e.g. “@Newsdesk which border crossings closed?”",
                    allowed_mentions=NO_MENTIONS,
                )
                return
            bucket = self.budget.spend(message.author.id)
            if bucket is not None:
                await message.reply(cooldown_text(bucket.get_retry_after()), allowed_mentions=NO_MENTIONS)
                return
            history = await self.app.thread_questions(message.channel.id)
            reply_to = await self._thread_for(message, question, has_history=bool(history))
            with contextlib.suppress(discord.HTTPException):
                await reply_to.typing()  # "Newsdesk is typing…" for up to 10 s; nice to have, not needed

            async def show_partial(text: str) -> None:  # an LLM's answer streaming in: post, then edit
                content = formatting.render_partial(text)
                if not streamed:
                    streamed.append(await self._post(message, reply_to, content))
                elif streamed[0].content != content:
                    streamed[0] = await streamed[0].edit(content=content, allowed_mentions=NO_MENTIONS)

            answer, answer_id = await ask_streaming(
                self.app,
                question,
                show_partial,
                self.settings.stream_edit_seconds,
                as_of=message.created_at.date(),
                history=history,  # the Newsdesk reads as many as the ask_history setting says
                via="mention",
                user_id=message.author.id,
                guild_id=message.guild.id if message.guild else None,
                channel_id=message.channel.id,
                # a conversation to remember: any guild channel but a plain text channel is a thread here
                thread_id=reply_to.id if message.guild and not isinstance(reply_to, discord.TextChannel) else None,
            )
            parts = formatting.render_answer(answer)
            for i, part in enumerate(parts):
                extra = {"view": feedback_view(answer_id)} if i == len(parts) - 1 else {}
                if i == 0 and streamed:
                    await streamed[0].edit(content=part, allowed_mentions=NO_MENTIONS, **extra)
                elif i == 0:
                    await self._post(message, reply_to, part, **extra)
                else:
                    await reply_to.send(part, allowed_mentions=NO_MENTIONS, **extra)
        except NewsdeskError as exc:
            await self._say(message, reply_to, friendly(exc), streamed)
        except Exception:
            log.exception("Failed to answer message %s in channel %s", message.id, message.channel.id)
            await self._say(message, reply_to, APOLOGY, streamed)

    async def _thread_for(self, message: discord.Message, question: str, *, has_history: bool) -> discord.abc.Messageable:
        """Where to answer: the thread the question is in, or a new thread on the question."""
        channel = message.channel
        if isinstance(channel, discord.Thread) or has_history or message.guild is None:
            return channel  # a thread (maybe not cached, but answered in before), or a DM
        if not isinstance(channel, discord.TextChannel):
            return channel
        try:
            return await message.create_thread(name=thread_name(question))
        except discord.HTTPException as exc:
            log.warning("Could not open a thread on message %s (%s); answering in the channel", message.id, exc)
            return channel

    @staticmethod
    async def _post(message: discord.Message, where: discord.abc.Messageable, text: str, **extra) -> discord.Message:
        """Post the first message of a reply; answering where the question was asked (a thread,
        a DM), point at the question."""
        if where.id == message.channel.id:
            return await message.reply(text, allowed_mentions=NO_MENTIONS, **extra)
        return await where.send(text, allowed_mentions=NO_MENTIONS, **extra)

    @classmethod
    async def _say(cls, message: discord.Message, where: discord.abc.Messageable, text: str,
                   streamed: Sequence[discord.Message] = ()) -> None:
        """Tell the user something went wrong; in place of a partly streamed answer, if there is one."""
        try:
            if streamed:
                await streamed[0].edit(content=text, allowed_mentions=NO_MENTIONS)
            else:
                await cls._post(message, where, text)
        except discord.HTTPException:
            log.exception("Could not tell the user about an error in channel %s", where.id)
