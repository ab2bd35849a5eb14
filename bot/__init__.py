"""Newsdesk on Discord: a thin layer that turns Discord events into `retrieval` calls."""

from .client import NewsdeskBot, use_discord_endpoints
from .config import BotSettings

__all__ = ["BotSettings", "NewsdeskBot", "use_discord_endpoints"]
