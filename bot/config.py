"""The bot's settings, read once by `python -m bot` and passed to the bot."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

DISCORD_API_BASE = "https://discord.com/api/v10"
DISCORD_GATEWAY_URL = "wss://gateway.discord.gg/"

IdList = Annotated[list[int], NoDecode]


class BotSettings(BaseSettings):
    """Discord-side settings; env vars are the upper-case field names (also read from `.env`).

    The index itself is configured by `retrieval.config.RetrievalSettings` (NEWSDESK_DATA_DIR, …).
    """

    model_config = SettingsConfigDict(env_file=".env", env_file_encoding="utf-8", extra="ignore")

    discord_token: SecretStr | None = Field(None, description="The bot token from the Developer Portal.")
    discord_guild_ids: IdList = Field(
        default_factory=list,
        description="Comma-separated server ids: commands are synced to these at start (instant); "
        "empty = global sync (can take up to an hour to appear).",
    )
    admin_role_ids: IdList = Field(
        default_factory=list,
        description="Roles whose members may run /reindex and /stats, besides Manage Server.",
    )
    ask_channel_ids: IdList = Field(
        default_factory=list,
        description="Channels where every message is taken as a question, without a mention "
        "(needs MESSAGE_CONTENT_INTENT).",
    )
    message_content_intent: bool = Field(
        False,
        description="Request the privileged message-content intent (enable it in the Developer Portal "
        "too). Needed for ASK_CHANNEL_IDS and for follow-ups in a thread without a mention.",
    )
    ask_cooldown_rate: int = Field(3, ge=1, description="Questions (and summaries) a user may ask per window.")
    ask_cooldown_seconds: float = Field(30.0, ge=0, description="The cooldown window; 0 turns the cooldown off.")
    discord_api_base: str = Field(DISCORD_API_BASE, description="REST base URL of a Discord-compatible server.")
    discord_gateway_url: str = Field(DISCORD_GATEWAY_URL, description="Gateway websocket URL of that server.")
    reindex_folders: list[Path] = Field(
        default_factory=lambda: [Path("seeds")],
        description='Folders /reindex indexes, as a JSON list (["seeds", "/srv/news"]).',
    )
    reindex_prune: bool = Field(
        True, description="Let /reindex drop indexed articles whose files are gone from those folders."
    )
    reindex_progress_seconds: float = Field(2.0, gt=0, description="How often /reindex edits its progress reply.")
    stream_edit_seconds: float = Field(
        1.5,
        ge=0,
        description="With an LLM: the least time between edits of a reply while its answer streams in; "
        "0 = no streaming, post the final answer only.",
    )
    sources_page_size: int = Field(15, ge=1, le=25, description="Titles per /sources page.")
    feed_poll_seconds: float = Field(60.0, ge=0, description="How often the bot looks for feeds that are due "
                                     "(each feed has its own interval); 0 = the bot polls no feeds.")
    digest_timezone: str = Field("UTC", description="The time zone of /digest set times (an IANA name, "
                                 "e.g. Europe/Paris).")
    digest_check_seconds: float = Field(30.0, gt=0, description="How often the bot looks for digests that are due.")
    warm_up: bool = Field(True, description="Load the model and index before connecting, not on the first question.")

    @field_validator("discord_guild_ids", "admin_role_ids", "ask_channel_ids", mode="before")
    @classmethod
    def _comma_separated(cls, value):
        if isinstance(value, str):
            return [int(part) for part in value.replace(";", ",").split(",") if part.strip()]
        if isinstance(value, int):
            return [value]
        return value

    @field_validator("digest_timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"unknown time zone {value!r}: use an IANA name such as Europe/Paris") from None
        return value

    @property
    def token(self) -> str | None:
        return self.discord_token.get_secret_value() if self.discord_token else None
