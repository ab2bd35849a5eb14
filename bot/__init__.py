"""Newsdesk on Discord: a thin layer that turns Discord events into `retrieval` calls."""

from .client import NewsdeskBot, use_discord_endpoints
from .config import BotSettings
from .feedback import FeedbackStore, Stats

__all__ = ["BotSettings", "FeedbackStore", "NewsdeskBot", "Stats", "use_discord_endpoints"]
