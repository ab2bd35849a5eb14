"""The 👍/👎 buttons under every answer.

The answer id and the vote live in the button's custom id, and the bot registers the
button class at start, so votes on answers sent before a restart still count.
"""

from __future__ import annotations

import asyncio
import logging
import re
from typing import TYPE_CHECKING, Any

import discord

if TYPE_CHECKING:
    from .client import NewsdeskBot

log = logging.getLogger(__name__)

VOTES = {"up": 1, "down": -1}


class VoteButton(discord.ui.DynamicItem[discord.ui.Button], template=r"newsdesk:vote:(?P<answer_id>[0-9]+):(?P<vote>up|down)"):
    """One of the two feedback buttons of an answer."""

    def __init__(self, answer_id: int, vote: str):
        super().__init__(
            discord.ui.Button(
                style=discord.ButtonStyle.secondary,
                emoji="👍" if vote == "up" else "👎",
                custom_id=f"newsdesk:vote:{answer_id}:{vote}",
            )
        )
        self.answer_id = answer_id
        self.vote = vote

    @classmethod
    async def from_custom_id(cls, interaction: discord.Interaction, item: Any, match: re.Match[str], /) -> VoteButton:
        return cls(int(match["answer_id"]), match["vote"])

    async def callback(self, interaction: discord.Interaction[NewsdeskBot]) -> None:
        try:
            stored = await asyncio.to_thread(
                interaction.client.feedback.record_vote, self.answer_id, interaction.user.id, VOTES[self.vote]
            )
        except Exception:
            log.exception("Could not store a vote on answer %s", self.answer_id)
            await interaction.response.send_message("Sorry, I could not save that vote.", ephemeral=True)
            return
        text = "Thanks for the feedback!" if stored else "That answer is no longer on record."
        await interaction.response.send_message(text, ephemeral=True)


def feedback_view(answer_id: int) -> discord.ui.View:
    view = discord.ui.View(timeout=None)
    view.add_item(VoteButton(answer_id, "up"))
    view.add_item(VoteButton(answer_id, "down"))
    return view
