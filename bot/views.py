"""The 👍/👎 buttons under every answer, and the cog that records a press.

The answer id and the vote live in the button's custom id, and `Votes` reads every button
press the bot receives, so votes on answers sent before a restart still count.
"""

from __future__ import annotations

import logging
import re

import discord
from discord.ext import commands

from retrieval.app import NewsdeskApp

log = logging.getLogger(__name__)

VOTES = {"up": 1, "down": -1}
VOTE_ID = re.compile(r"newsdesk:vote:(?P<answer_id>[0-9]+):(?P<vote>up|down)")


def vote_button(answer_id: int, vote: str) -> discord.ui.Button:
    """One of the two feedback buttons of an answer."""
    return discord.ui.Button(style=discord.ButtonStyle.secondary, emoji="👍" if vote == "up" else "👎",
                             custom_id=f"newsdesk:vote:{answer_id}:{vote}")


def feedback_view(answer_id: int) -> discord.ui.View:
    view = discord.ui.View(timeout=None)
    view.add_item(vote_button(answer_id, "up"))
    view.add_item(vote_button(answer_id, "down"))
    return view


class Votes(commands.Cog):
    """Records a press of a feedback button, whenever the answer was sent."""

    def __init__(self, app: NewsdeskApp):
        self.app = app

    @commands.Cog.listener()
    async def on_interaction(self, interaction: discord.Interaction) -> None:
        if interaction.type is not discord.InteractionType.component:
            return
        match = VOTE_ID.fullmatch(str((interaction.data or {}).get("custom_id", "")))
        if match is None:
            return
        answer_id = int(match["answer_id"])
        try:
            stored = await self.app.record_vote(answer_id, interaction.user.id, VOTES[match["vote"]])
        except Exception:
            log.exception("Could not store a vote on answer %s", answer_id)
            await interaction.response.send_message("Sorry, I could not save that vote.", ephemeral=True)
            return
        text = "Thanks for the feedback!" if stored else "That answer is no longer on record."
        await interaction.response.send_message(text, ephemeral=True)
