"""Who may run what, and how often: declared at the commands, enforced when they run.

A check reads what it needs from the cog its command belongs to (`interaction.command.binding`):
`settings` for the admin roles, `budget` for the question cooldown. Cogs are given both when
they are made; nothing here reaches into the bot.
"""

from __future__ import annotations

import time

import discord
from discord import app_commands


class NotAdmin(app_commands.CheckFailure):
    """The user lacks Manage Server and every role in ADMIN_ROLE_IDS."""


def is_admin(user: discord.abc.User, permissions: discord.Permissions, admin_role_ids: list[int]) -> bool:
    """Manage Server (or Administrator) in this channel, or one of the configured roles."""
    if permissions.manage_guild or permissions.administrator:
        return True
    roles = {role.id for role in getattr(user, "roles", ())}
    return bool(roles & set(admin_role_ids))


def admin_only():
    """A server-side check: hiding the command with default permissions is only a courtesy."""

    async def predicate(interaction: discord.Interaction) -> bool:
        settings = interaction.command.binding.settings
        if interaction.guild is None or not is_admin(interaction.user, interaction.permissions, settings.admin_role_ids):
            raise NotAdmin("Only server admins (Manage Server, or an admin role) can do that.")
        return True

    return app_commands.check(predicate)


class QuestionBudget:
    """A per-user cooldown shared by /ask, /summary and mentions (one budget per person).

    Made by the bot and given to the cogs that spend it, rather than kept in a decorator's
    module-level mapping, so two bots in one process (tests) never share buckets.
    """

    def __init__(self, rate: int, per: float):
        self.rate = rate
        self.per = per
        self._buckets: dict[int, tuple[app_commands.Cooldown, float]] = {}  # user → (bucket, last use)

    def spend(self, user_id: int, now: float | None = None) -> app_commands.Cooldown | None:
        """Take one question from the user's budget; returns the bucket if it was empty."""
        if self.per <= 0:
            return None
        now = time.time() if now is None else now
        for key in [k for k, (_, last) in self._buckets.items() if now > last + self.per]:
            del self._buckets[key]  # forget idle users
        bucket, _ = self._buckets.get(user_id, (None, 0.0))
        if bucket is None:
            bucket = app_commands.Cooldown(self.rate, self.per)
        self._buckets[user_id] = (bucket, now)
        return bucket if bucket.update_rate_limit(now) is not None else None


def question_cooldown():
    """Spend one question of the user's budget, or fail with CommandOnCooldown."""

    async def predicate(interaction: discord.Interaction) -> bool:
        bucket = interaction.command.binding.budget.spend(interaction.user.id)
        if bucket is not None:
            raise app_commands.CommandOnCooldown(bucket, bucket.get_retry_after())
        return True

    return app_commands.check(predicate)


def cooldown_text(retry_after: float) -> str:
    return f"Easy there, you're asking faster than I can read. Try again in {max(1, round(retry_after))} s."
