"""Replying to interactions, and the words for things that went wrong."""

from __future__ import annotations

import logging
from collections.abc import Sequence

import discord

from retrieval.errors import (
    DateError,
    ModelMismatchError,
    NewsdeskError,
    NotFoundError,
    StoreUnavailableError,
)

from .formatting import escape, split_message

log = logging.getLogger(__name__)

APOLOGY = "Sorry, something went wrong on my side. The error has been logged; please try again."
NO_MENTIONS = discord.AllowedMentions.none()


def friendly(exc: NewsdeskError) -> str:
    """The message a user sees for a deliberate retrieval error (their messages are written for users)."""
    said = escape(str(exc)).strip()
    said = said[:1].upper() + said[1:]
    if said and said[-1] not in ".!?”)":
        said += "."
    if isinstance(exc, NotFoundError):
        return f"{said} `/sources` lists what is indexed."
    if isinstance(exc, DateError):
        return f"{said} Use dates like 2023-12-21."
    if isinstance(exc, StoreUnavailableError):
        return "The archive is not reachable right now. Please try again in a moment."
    if isinstance(exc, ModelMismatchError):
        return "The index was built with a different embedding model; an admin needs to rebuild it."
    return said or "That did not work."


async def send(
    interaction: discord.Interaction,
    parts: Sequence[str],
    *,
    view: discord.ui.View | None = None,
    ephemeral: bool = False,
) -> None:
    """Send messages as the interaction's reply (or its follow-ups); `view` goes under the last."""
    for i, part in enumerate(parts):
        extra = {"view": view} if view is not None and i == len(parts) - 1 else {}
        if not interaction.response.is_done():
            await interaction.response.send_message(part, ephemeral=ephemeral, allowed_mentions=NO_MENTIONS, **extra)
        else:
            await interaction.followup.send(part, ephemeral=ephemeral, allowed_mentions=NO_MENTIONS, **extra)


async def replace_reply(
    interaction: discord.Interaction,
    parts: Sequence[str],
    *,
    view: discord.ui.View | None = None,
) -> None:
    """Put `parts` in place of the interaction's reply (e.g. an answer that streamed into it):
    the first part edits the reply, the others follow it; `view` goes under the last."""
    for i, part in enumerate(parts):
        extra = {"view": view} if view is not None and i == len(parts) - 1 else {}
        if i == 0:
            await interaction.edit_original_response(content=part, allowed_mentions=NO_MENTIONS, **extra)
        else:
            await interaction.followup.send(part, allowed_mentions=NO_MENTIONS, **extra)


async def notify(interaction: discord.Interaction, text: str, *, private: bool = True) -> None:
    """Tell the user something went wrong, privately where Discord allows it.

    After a public "thinking" defer the first follow-up would take that message's place in
    the channel, so the thinking message is deleted first and the note sent ephemeral.
    """
    parts = split_message(text)
    if not interaction.response.is_done():
        await send(interaction, parts, ephemeral=private)
        return
    if private:
        try:
            await interaction.delete_original_response()
        except discord.HTTPException:
            log.debug("Could not delete the thinking message of interaction %s", interaction.id)
    await send(interaction, parts, ephemeral=private)
