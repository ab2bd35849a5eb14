"""JSON payloads shaped like Discord's (API v10), with the keys discord.py 2.7 requires."""

from __future__ import annotations

import datetime as dt
import itertools
import time

DISCORD_EPOCH_MS = 1_420_070_400_000
_counter = itertools.count(1)

# Permission bits used by the tests.
MANAGE_GUILD = 1 << 5
SEND_MESSAGES = 1 << 11
VIEW_CHANNEL = 1 << 10
MEMBER_PERMISSIONS = VIEW_CHANNEL | SEND_MESSAGES | (1 << 31)  # + use application commands

MESSAGE_CONTENT_INTENT = 1 << 15


def snowflake(at: dt.datetime | None = None) -> int:
    """A fresh id whose timestamp is `at` (default now): discord.py derives `created_at` from ids."""
    seconds = at.timestamp() if at is not None else time.time()
    ms = int(seconds * 1000) - DISCORD_EPOCH_MS
    return (ms << 22) | (next(_counter) & 0x3FFFFF)


def created_at(snowflake_id: int) -> dt.datetime:
    """When the object with this id was created (what Discord's `timestamp` fields say)."""
    return dt.datetime.fromtimestamp(((snowflake_id >> 22) + DISCORD_EPOCH_MS) / 1000, dt.UTC)


def now_iso() -> str:
    return dt.datetime.now(dt.UTC).isoformat()


def user(user_id: int, username: str, *, bot: bool = False) -> dict:
    return {
        "id": str(user_id),
        "username": username,
        "global_name": username,
        "discriminator": "0",
        "avatar": None,
        "bot": bot,
    }


def member(user_payload: dict, *, roles: list[int] = (), permissions: int | None = None) -> dict:
    data = {
        "user": user_payload,
        "roles": [str(r) for r in roles],
        "flags": 0,
        "joined_at": now_iso(),
        "deaf": False,
        "mute": False,
        "nick": None,
    }
    if permissions is not None:
        data["permissions"] = str(permissions)
    return data


def role(role_id: int, name: str, *, position: int, permissions: int = 0) -> dict:
    return {
        "id": str(role_id),
        "name": name,
        "color": 0,
        "colors": {"primary_color": 0, "secondary_color": None, "tertiary_color": None},
        "hoist": False,
        "icon": None,
        "unicode_emoji": None,
        "position": position,
        "permissions": str(permissions),
        "managed": False,
        "mentionable": False,
        "flags": 0,
    }


def text_channel(channel_id: int, guild_id: int, name: str, *, position: int = 0) -> dict:
    return {
        "id": str(channel_id),
        "type": 0,
        "guild_id": str(guild_id),
        "name": name,
        "position": position,
        "permission_overwrites": [],
        "nsfw": False,
        "parent_id": None,
        "topic": None,
        "last_message_id": None,
        "rate_limit_per_user": 0,
        "flags": 0,
    }


def thread_channel(thread_id: int, guild_id: int, parent_id: int, owner_id: int, name: str) -> dict:
    return {
        "id": str(thread_id),
        "type": 11,  # public thread
        "guild_id": str(guild_id),
        "parent_id": str(parent_id),
        "owner_id": str(owner_id),
        "name": name,
        "last_message_id": None,
        "rate_limit_per_user": 0,
        "message_count": 0,
        "member_count": 1,
        "total_message_sent": 0,
        "flags": 0,
        "thread_metadata": {
            "archived": False,
            "auto_archive_duration": 1440,
            "archive_timestamp": now_iso(),
            "locked": False,
            "create_timestamp": now_iso(),
        },
    }


def guild(guild_id: int, name: str, *, owner_id: int, channels: list[dict], roles: list[dict],
          members: list[dict], threads: list[dict] = ()) -> dict:
    return {
        "id": str(guild_id),
        "name": name,
        "icon": None,
        "owner_id": str(owner_id),
        "unavailable": False,
        "large": False,
        "member_count": len(members),
        "joined_at": now_iso(),
        "channels": channels,
        "threads": list(threads),
        "roles": roles,
        "members": members,
        "emojis": [],
        "stickers": [],
        "features": [],
        "voice_states": [],
        "presences": [],
        "stage_instances": [],
        "guild_scheduled_events": [],
        "soundboard_sounds": [],
        "verification_level": 0,
        "default_message_notifications": 0,
        "explicit_content_filter": 0,
        "mfa_level": 0,
        "nsfw_level": 0,
        "premium_tier": 0,
        "preferred_locale": "en-US",
        "system_channel_flags": 0,
    }


def message(message_id: int, channel_id: int, author: dict, content: str, *, guild_id: int | None = None,
            mentions: list[dict] = (), mention_everyone: bool = False, flags: int = 0,
            components: list | None = None, extra: dict | None = None) -> dict:
    data = {
        "id": str(message_id),
        "channel_id": str(channel_id),
        "type": 0,
        "content": content,
        "author": author,
        "timestamp": created_at(message_id).isoformat(),
        "edited_timestamp": None,
        "tts": False,
        "mention_everyone": mention_everyone,
        "mentions": list(mentions),
        "mention_roles": [],
        "attachments": [],
        "embeds": [],
        "pinned": False,
        "flags": flags,
        "components": components or [],
    }
    if guild_id is not None:
        data["guild_id"] = str(guild_id)
    if extra:
        data.update(extra)
    return data


def option(name: str, value, *, type_: int = 3, focused: bool = False) -> dict:
    data = {"name": name, "type": type_, "value": value}
    if focused:
        data["focused"] = True
    return data
