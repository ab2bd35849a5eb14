"""A small Discord on 127.0.0.1: the REST routes the bot uses and a gateway websocket.

It keeps what a test needs to assert on: every REST call with its JSON body, the messages
that exist (with the interaction or channel they belong to), the heartbeats received, and
the IDENTIFY/RESUME payloads. Events are injected with `slash`, `autocomplete`, `click`,
`post`, `reconnect` and `invalidate_session`. Behaviour follows Discord where the bot could
notice a difference: an interaction is acknowledged once (40060), follow-ups need an
acknowledgement (10015), the first follow-up after a "thinking" defer replaces the thinking
message (while it is still thinking), message content is stripped without the
message-content intent unless the bot is mentioned, the bot's own messages come back as
MESSAGE_CREATE (and their edits as MESSAGE_UPDATE), and starting a thread sends
THREAD_CREATE. Ids are snowflakes whose timestamp is when the thing was made; `slash` and
`post` take an `at=` to date one.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import re
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from aiohttp import WSMsgType, web

from . import payloads as p

EPHEMERAL = 1 << 6
LOADING = 1 << 7
JSON = "application/json"  # exactly: with "; charset=…" discord.py reads the body as text


def pings_nobody(allowed_mentions: dict | None) -> bool:
    """True for an `allowed_mentions` that allows no @everyone/@here, role, user or reply ping."""
    if allowed_mentions is None:  # Discord would then parse every mention in the content
        return False
    return (allowed_mentions.get("parse") == [] and not allowed_mentions.get("users")
            and not allowed_mentions.get("roles") and not allowed_mentions.get("replied_user"))


@dataclass
class Call:
    """One REST request the bot made."""

    method: str
    path: str
    query: dict[str, str]
    body: Any
    at: float  # time.monotonic()

    @property
    def message(self) -> dict | None:
        """The message payload it carries (an interaction callback wraps it in `data`)."""
        if not isinstance(self.body, dict):
            return None
        if self.path.endswith("/callback"):
            data = self.body.get("data")
            return data if isinstance(data, dict) and self.body.get("type") in (4, 7) else None
        if "content" in self.body or "components" in self.body or "embeds" in self.body:
            return self.body
        return None


@dataclass
class Interaction:
    """An injected interaction and what became of it."""

    id: int
    token: str
    type: int
    name: str
    user_id: int
    channel_id: int
    sent_at: float
    acked_at: float | None = None
    callback_type: int | None = None
    ephemeral_defer: bool = False
    original_id: int | None = None  # the message of the response (the thinking message, too)
    followups_sent: int = 0
    deleted_original: bool = False
    choices: list[dict] | None = None  # an autocomplete's answer


@dataclass
class Gateway:
    """The state of the gateway session as the bot sees it."""

    session_id: str = ""
    seq: int = 0
    ws: web.WebSocketResponse | None = None
    connections: int = 0
    identify: dict | None = None  # the latest IDENTIFY
    identifies: int = 0
    resumes: list[dict] = field(default_factory=list)
    heartbeats: list[float] = field(default_factory=list)
    other_ops: list[dict] = field(default_factory=list)


class FakeDiscord:
    """Start with `await fake.start()`; point the bot at `api_base` and `gateway_url`."""

    def __init__(self, *, heartbeat_interval: float = 41.25, guild_name: str = "Newsroom"):
        self.heartbeat_interval = heartbeat_interval  # seconds
        self.app_id = p.snowflake()
        self.bot_id = self.app_id  # a bot user shares its application's id
        self.bot_user = p.user(self.bot_id, "Newsdesk", bot=True)
        self.owner = p.user(p.snowflake(), "owner")
        self.guild_id = p.snowflake()
        self.channel_id = p.snowflake()  # #news, where people ask
        self.other_channel_id = p.snowflake()  # #general
        self.admin_role_id = p.snowflake()  # a role that may be listed in ADMIN_ROLE_IDS
        self.channels: dict[int, dict] = {
            self.channel_id: p.text_channel(self.channel_id, self.guild_id, "news", position=0),
            self.other_channel_id: p.text_channel(self.other_channel_id, self.guild_id, "general", position=1),
        }
        self.threads: dict[int, dict] = {}
        self.dms: dict[int, dict] = {}  # user id → their DM channel with the bot
        self.roles = [
            p.role(self.guild_id, "@everyone", position=0, permissions=p.MEMBER_PERMISSIONS),
            p.role(self.admin_role_id, "editors", position=1, permissions=p.MEMBER_PERMISSIONS),
        ]
        self.calls: list[Call] = []
        self.unknown_routes: list[Call] = []
        self.commands: dict[int | None, list[dict]] = {}  # guild id (None = global) → synced commands
        self.interactions: dict[int, Interaction] = {}
        self.expired_tokens: set[str] = set()  # interaction tokens past their 15 minutes
        self._rate_limits: list[tuple[str, re.Pattern, float]] = []  # see rate_limit()
        self.rate_limited: list[Call] = []  # the calls answered with 429
        self.messages: dict[int, dict] = {}
        self.gateway = Gateway()
        self._changed = asyncio.Condition()
        self._runner: web.AppRunner | None = None
        self.port = 0

    # ------------------------------------------------------------------ lifecycle

    async def start(self) -> None:
        app = web.Application()
        app.router.add_get("/gateway", self._gateway)
        app.router.add_route("*", "/api/v10/{tail:.*}", self._rest)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        self.port = site._server.sockets[0].getsockname()[1]

    async def stop(self) -> None:
        if self.gateway.ws is not None:
            await self.gateway.ws.close()
        if self._runner is not None:
            await self._runner.cleanup()

    @property
    def api_base(self) -> str:
        return f"http://127.0.0.1:{self.port}/api/v10"

    @property
    def gateway_url(self) -> str:
        return f"ws://127.0.0.1:{self.port}/gateway"

    # ------------------------------------------------------------------ waiting

    async def _notify(self) -> None:
        async with self._changed:
            self._changed.notify_all()

    async def wait_until(self, predicate: Callable[[], Any], timeout: float = 30.0) -> Any:
        """Wait until `predicate()` is truthy (a guard against hanging, not a timing assertion)."""

        async def wait() -> Any:
            async with self._changed:
                while not (result := predicate()):
                    await self._changed.wait()
                return result

        return await asyncio.wait_for(wait(), timeout)

    # ------------------------------------------------------------------ users

    def make_user(self, name: str) -> dict:
        return p.user(p.snowflake(), name)

    def member(self, user: dict, *, admin: bool = False, roles: list[int] = ()) -> dict:
        permissions = p.MEMBER_PERMISSIONS | (p.MANAGE_GUILD if admin else 0)
        return p.member(user, roles=list(roles), permissions=permissions)

    # ------------------------------------------------------------------ gateway

    async def _gateway(self, request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse()
        await ws.prepare(request)
        self.gateway.ws = ws
        self.gateway.connections += 1
        await ws.send_json({"op": 10, "d": {"heartbeat_interval": int(self.heartbeat_interval * 1000)}, "s": None, "t": None})
        async for msg in ws:
            if msg.type is not WSMsgType.TEXT:
                continue
            frame = json.loads(msg.data)
            op, data = frame.get("op"), frame.get("d")
            if op == 1:
                self.gateway.heartbeats.append(time.monotonic())
                await ws.send_json({"op": 11, "d": None, "s": None, "t": None})
            elif op == 2:
                await self._identify(data)
            elif op == 6:
                await self._resume(data)
            else:
                self.gateway.other_ops.append(frame)
            await self._notify()
        if self.gateway.ws is ws:
            self.gateway.ws = None
        await self._notify()
        return ws

    async def _identify(self, data: dict) -> None:
        self.gateway.identify = data
        self.gateway.identifies += 1
        self.gateway.session_id = secrets.token_hex(16)
        self.gateway.seq = 0
        ready_user = dict(self.bot_user, verified=True, mfa_enabled=False, flags=0)
        await self.dispatch("READY", {
            "v": 10,
            "user": ready_user,
            "guilds": [{"id": str(self.guild_id), "unavailable": True}],
            "session_id": self.gateway.session_id,
            "resume_gateway_url": self.gateway_url,
            "application": {"id": str(self.app_id), "flags": 0},
        })
        await self.dispatch("GUILD_CREATE", p.guild(
            self.guild_id, "Newsroom", owner_id=int(self.owner["id"]),
            channels=list(self.channels.values()),
            roles=self.roles,
            members=[p.member(self.bot_user), p.member(self.owner)],
            threads=list(self.threads.values()),
        ))

    async def _resume(self, data: dict) -> None:
        self.gateway.resumes.append(data)
        if data.get("session_id") != self.gateway.session_id:
            await self.gateway.ws.send_json({"op": 9, "d": False, "s": None, "t": None})
            return
        await self.dispatch("RESUMED", {})

    async def dispatch(self, event: str, data: dict) -> None:
        if self.gateway.ws is None:
            await self.wait_until(lambda: self.gateway.ws is not None)
        self.gateway.seq += 1
        await self.gateway.ws.send_json({"op": 0, "t": event, "s": self.gateway.seq, "d": data})

    @property
    def intents(self) -> int:
        return int((self.gateway.identify or {}).get("intents", 0))

    async def reconnect(self) -> int:
        """Send op 7 (reconnect); returns when the bot has resumed. Returns the RESUMEs seen."""
        before = len(self.gateway.resumes)
        await self.gateway.ws.send_json({"op": 7, "d": None, "s": None, "t": None})
        await self.wait_until(lambda: len(self.gateway.resumes) > before and self.gateway.ws is not None)
        return len(self.gateway.resumes)

    async def invalidate_session(self, *, resumable: bool) -> None:
        """Send op 9 (invalid session); returns when the bot has resumed (`resumable`) or
        identified again with a new session (not resumable)."""
        identifies, resumes = self.gateway.identifies, len(self.gateway.resumes)
        await self.gateway.ws.send_json({"op": 9, "d": resumable, "s": None, "t": None})
        if resumable:
            await self.wait_until(lambda: len(self.gateway.resumes) > resumes and self.gateway.ws is not None)
        else:
            await self.wait_until(lambda: self.gateway.identifies > identifies and self.gateway.ws is not None)

    # ------------------------------------------------------------------ injected events

    async def _interaction(self, type_: int, name: str, data: dict, *, user: dict, admin: bool,
                           roles: list[int], channel_id: int | None, message: dict | None = None,
                           at: dt.datetime | None = None) -> Interaction:
        channel_id = channel_id or self.channel_id
        ix = Interaction(
            id=p.snowflake(at), token=secrets.token_urlsafe(24), type=type_, name=name,
            user_id=int(user["id"]), channel_id=channel_id, sent_at=0.0,
        )
        self.interactions[ix.id] = ix
        channel = self.channels.get(channel_id) or self.threads[channel_id]
        payload = {
            "id": str(ix.id),
            "application_id": str(self.app_id),
            "type": type_,
            "token": ix.token,
            "version": 1,
            "attachment_size_limit": 8 * 1024 * 1024,
            "guild_id": str(self.guild_id),
            "guild": {"id": str(self.guild_id), "locale": "en-US", "features": []},
            "channel_id": str(channel_id),
            "channel": channel,
            "member": self.member(user, admin=admin, roles=roles),
            "app_permissions": str(p.MEMBER_PERMISSIONS),
            "locale": "en-US",
            "guild_locale": "en-US",
            "entitlements": [],
            "authorizing_integration_owners": {"0": str(self.guild_id)},
            "context": 0,
            "data": data,
        }
        if message is not None:
            payload["message"] = message
        ix.sent_at = time.monotonic()
        await self.dispatch("INTERACTION_CREATE", payload)
        return ix

    def _command(self, name: str) -> tuple[dict, int | None]:
        for scope in (self.guild_id, None):
            for command in self.commands.get(scope, []):
                if command["name"] == name:
                    return command, scope
        raise KeyError(f"/{name} was not synced")

    async def slash(self, name: str, *, user: dict, admin: bool = False, roles: list[int] = (),
                    channel_id: int | None = None, at: dt.datetime | None = None, **options: Any) -> Interaction:
        """Someone runs /name with these options (`at`: when, as the interaction's id says; default now).
        A subcommand is named after its group ("feeds add"); a channel option's value is the
        channel's payload (`fake.channels[id]`), sent with its resolved data as Discord does."""
        group, _, sub = name.partition(" ")
        command, scope = self._command(group)
        given, resolved = [], {}
        for k, v in options.items():
            if isinstance(v, dict) and "type" in v:  # a channel
                given.append(p.option(k, v["id"], type_=7))
                resolved.setdefault("channels", {})[v["id"]] = dict(
                    {key: v[key] for key in ("id", "type", "name", "position", "parent_id") if key in v},
                    permissions=str(p.MEMBER_PERMISSIONS))
            else:
                given.append(p.option(k, v, type_=5 if isinstance(v, bool) else 4 if isinstance(v, int) else 3))
        if sub:
            given = [{"name": sub, "type": 1, "options": given}]
        data = {
            "id": command["id"],
            "name": group,
            "type": 1,
            "options": given,
        }
        if resolved:
            data["resolved"] = resolved
        if scope is not None:
            data["guild_id"] = str(scope)
        return await self._interaction(2, name, data, user=user, admin=admin, roles=roles, channel_id=channel_id,
                                       at=at)

    async def autocomplete(self, name: str, option: str, typed: str, *, user: dict) -> list[dict]:
        """Someone types into an option with autocomplete; returns the choices the bot offered."""
        command, scope = self._command(name)
        data = {"id": command["id"], "name": name, "type": 1, "options": [p.option(option, typed, focused=True)]}
        if scope is not None:
            data["guild_id"] = str(scope)
        ix = await self._interaction(4, name, data, user=user, admin=False, roles=[], channel_id=None)
        await self.wait_until(lambda: ix.choices is not None)
        return ix.choices

    async def click(self, message: dict, custom_id: str, *, user: dict) -> Interaction:
        """Someone clicks the button `custom_id` on a message the bot sent."""
        ids = [c.get("custom_id") for row in message.get("components", []) for c in row.get("components", [])]
        assert custom_id in ids, f"no button {custom_id!r} on that message (buttons: {ids})"
        data = {"custom_id": custom_id, "component_type": 2}
        return await self._interaction(3, custom_id, data, user=user, admin=False, roles=[],
                                       channel_id=int(message["channel_id"]), message=message)

    def dm_channel(self, user: dict) -> int:
        """The id of the DM channel between `user` and the bot."""
        user_id = int(user["id"])
        if user_id not in self.dms:
            self.dms[user_id] = {"id": str(p.snowflake()), "type": 1, "recipients": [user], "last_message_id": None}
        return int(self.dms[user_id]["id"])

    async def post(self, content: str, *, user: dict, channel_id: int | None = None, dm: bool = False,
                   at: dt.datetime | None = None) -> dict:
        """Someone posts a message in a channel, a thread or a DM (mentions are parsed from `<@id>`;
        `at`: when, as the message's id and timestamp say; default now)."""
        channel_id = self.dm_channel(user) if dm else channel_id or self.channel_id
        mentioned = [int(m) for m in re.findall(r"<@!?(\d+)>", content)]
        mentions = [self.bot_user] if self.bot_id in mentioned else []
        message = p.message(p.snowflake(at), channel_id, user, content, guild_id=None if dm else self.guild_id,
                            mentions=mentions, mention_everyone="@everyone" in content)
        self.messages[int(message["id"])] = message
        delivered = dict(message)
        if not (self.intents & p.MESSAGE_CONTENT_INTENT) and not mentions and not dm:
            delivered.update(content="", embeds=[], attachments=[], components=[])
        if not dm:
            delivered["member"] = {"roles": [], "joined_at": p.now_iso(), "flags": 0, "deaf": False, "mute": False}
        await self.dispatch("MESSAGE_CREATE", delivered)
        return message

    # ------------------------------------------------------------------ what the bot did

    def calls_for(self, ix: Interaction) -> list[Call]:
        return [c for c in self.calls if ix.token in c.path or f"/interactions/{ix.id}/" in c.path]

    def interaction_messages(self, ix: Interaction) -> list[dict]:
        """The messages that exist for an interaction, in the order they were created."""
        return [m for m in self.messages.values() if m.get("_interaction") == ix.id]

    def channel_messages(self, channel_id: int, *, by_bot: bool = True) -> list[dict]:
        """Messages posted in a channel through the channel API (interaction replies not included)."""
        return [m for m in self.messages.values()
                if int(m["channel_id"]) == channel_id and "_interaction" not in m
                and (not by_bot or int(m["author"]["id"]) == self.bot_id)]

    def heartbeat_gaps(self, start: float, end: float) -> list[float]:
        """Seconds between consecutive heartbeats received in [start, end], the edges included."""
        edges = [start, *(t for t in self.gateway.heartbeats if start <= t <= end), end]
        return [b - a for a, b in zip(edges, edges[1:])]

    def sent_payloads(self) -> list[Call]:
        """Every call that carried message content the bot wrote."""
        return [c for c in self.calls if c.message is not None]

    def payloads_that_may_ping(self) -> list[Call]:
        """Calls whose `allowed_mentions` would let Discord ping someone (missing counts)."""
        return [c for c in self.sent_payloads() if not pings_nobody(c.message.get("allowed_mentions"))]

    # ------------------------------------------------------------------ REST

    def _json(self, data: Any, status: int = 200) -> web.Response:
        return web.Response(status=status, body=json.dumps(data), headers={"Content-Type": JSON})

    def _error(self, status: int, code: int, message: str) -> web.Response:
        return self._json({"code": code, "message": message}, status=status)

    def rate_limit(self, method: str, path_pattern: str, *, retry_after: float = 0.3) -> None:
        """Answer the next REST call matching `method` and the regex `path_pattern` with 429."""
        self._rate_limits.append((method, re.compile(path_pattern), retry_after))

    def _too_many_requests(self, retry_after: float) -> web.Response:
        # What Discord sends for a per-route limit; a 429 without `Via` (Cloudflare's own
        # block) is not retried by discord.py.
        return web.Response(status=429, body=json.dumps({
            "message": "You are being rate limited.", "retry_after": retry_after, "global": False,
        }), headers={
            "Content-Type": JSON, "Via": "1.1 google", "X-RateLimit-Limit": "5", "X-RateLimit-Remaining": "0",
            "X-RateLimit-Reset-After": f"{retry_after:.3f}", "X-RateLimit-Bucket": "fake-bucket",
            "X-RateLimit-Scope": "user",
        })

    async def _rest(self, request: web.Request) -> web.StreamResponse:
        body = None
        if request.can_read_body:
            raw = await request.read()
            if request.content_type == "application/json":
                body = json.loads(raw)
            elif request.content_type.startswith("multipart/"):
                body = {"_multipart": True}
        path = "/" + request.match_info["tail"]
        call = Call(request.method, path, dict(request.query), body, time.monotonic())
        self.calls.append(call)
        limited = next((rule for rule in self._rate_limits if rule[0] == call.method and rule[1].fullmatch(path)), None)
        if limited is not None:
            self._rate_limits.remove(limited)
            self.rate_limited.append(call)
            await self._notify()
            return self._too_many_requests(limited[2])
        try:
            response = await self._route(call)
        finally:
            await self._notify()
        if response is None:
            self.unknown_routes.append(call)
            return self._error(404, 0, f"fake Discord has no route {call.method} {path}")
        return response

    async def _route(self, call: Call) -> web.StreamResponse | None:
        m, path, body = call.method, call.path, call.body
        app = str(self.app_id)
        if m == "GET" and path == "/users/@me":
            return self._json(dict(self.bot_user, verified=True, mfa_enabled=False, flags=0))
        if m == "GET" and path == "/oauth2/applications/@me":
            return self._json({
                "id": app, "name": "Newsdesk", "description": "", "icon": None, "bot_public": False,
                "bot_require_code_grant": False, "owner": self.owner, "verify_key": "0" * 64, "flags": 0,
                "team": None, "summary": "", "rpc_origins": [],
            })
        if m == "PUT" and (match := re.fullmatch(rf"/applications/{app}(?:/guilds/(\d+))?/commands", path)):
            scope = int(match[1]) if match[1] else None
            synced = []
            for command in body:
                synced.append(dict(command, id=str(p.snowflake()), application_id=app, version=str(p.snowflake()),
                                   **({"guild_id": str(scope)} if scope else {})))
            self.commands[scope] = synced
            return self._json(synced)
        if m == "POST" and (match := re.fullmatch(r"/interactions/(\d+)/([^/]+)/callback", path)):
            return await self._callback(int(match[1]), match[2], body)
        if match := re.fullmatch(rf"/webhooks/{app}/([^/]+)(?:/messages/(@original|\d+))?", path):
            return await self._webhook(m, match[1], match[2], body)
        if m == "POST" and (match := re.fullmatch(r"/channels/(\d+)/typing", path)):
            return web.Response(status=204)
        if m == "POST" and (match := re.fullmatch(r"/channels/(\d+)/messages", path)):
            return await self._channel_message(int(match[1]), body)
        if m == "PATCH" and (match := re.fullmatch(r"/channels/(\d+)/messages/(\d+)", path)):
            return await self._edit_channel_message(int(match[1]), int(match[2]), body)
        if m == "POST" and (match := re.fullmatch(r"/channels/(\d+)/messages/(\d+)/threads", path)):
            return await self._start_thread(int(match[1]), int(match[2]), body)
        return None

    def _bot_message(self, channel_id: int, body: dict, *, flags: int = 0, extra: dict | None = None) -> dict:
        in_dm = any(int(c["id"]) == channel_id for c in self.dms.values())
        message = p.message(
            p.snowflake(), channel_id, self.bot_user, body.get("content") or "",
            guild_id=None if in_dm else self.guild_id, flags=flags, components=body.get("components"), extra=extra,
        )
        self.messages[int(message["id"])] = message
        return message

    @staticmethod
    def _public(message: dict) -> dict:
        return {k: v for k, v in message.items() if not k.startswith("_")}

    async def _callback(self, interaction_id: int, token: str, body: dict) -> web.Response:
        ix = self.interactions.get(interaction_id)
        if ix is None or ix.token != token:
            return self._error(404, 10062, "Unknown interaction")
        if ix.acked_at is not None:
            return self._error(400, 40060, "Interaction has already been acknowledged.")
        ix.acked_at = time.monotonic()
        ix.callback_type = kind = body["type"]
        data = body.get("data") or {}
        resource: dict = {"type": kind}
        if kind == 8:  # autocomplete result
            ix.choices = data.get("choices", [])
        elif kind in (4, 5):  # a message, or "thinking"
            flags = data.get("flags", 0)
            ix.ephemeral_defer = bool(flags & EPHEMERAL)
            message = self._bot_message(ix.channel_id, data, flags=flags | (LOADING if kind == 5 else 0),
                                        extra={"_interaction": ix.id, "webhook_id": str(self.app_id),
                                               "application_id": str(self.app_id)})
            ix.original_id = int(message["id"])
            resource["message"] = self._public(message)
        return self._json({
            "interaction": {
                "id": str(ix.id),
                "type": ix.type,
                "response_message_id": str(ix.original_id) if ix.original_id else None,
                "response_message_loading": kind == 5,
                "response_message_ephemeral": ix.ephemeral_defer,
            },
            "resource": resource,
        })

    async def _webhook(self, method: str, token: str, message_ref: str | None, body: Any) -> web.Response:
        ix = next((i for i in self.interactions.values() if i.token == token), None)
        if token in self.expired_tokens:
            return self._error(401, 50027, "Invalid Webhook Token")
        if ix is None or ix.acked_at is None:
            return self._error(404, 10015, "Unknown Webhook")
        if message_ref is None:
            if method != "POST":
                return self._error(405, 0, "405: Method Not Allowed")
            original = self.messages.get(ix.original_id) if ix.original_id else None
            ix.followups_sent += 1
            if (ix.callback_type == 5 and ix.followups_sent == 1 and original is not None
                    and original["flags"] & LOADING):
                # The first follow-up after a thinking defer becomes the thinking message
                # (unless that was edited or deleted already: then it is a message of its own).
                original.update(content=body.get("content") or "", components=body.get("components") or [],
                                flags=original["flags"] & ~LOADING)
                original["_payloads"] = original.get("_payloads", []) + [body]
                return self._json(self._public(original))
            message = self._bot_message(ix.channel_id, body, flags=body.get("flags", 0),
                                        extra={"_interaction": ix.id, "webhook_id": str(self.app_id),
                                               "application_id": str(self.app_id)})
            if not (message["flags"] & EPHEMERAL):
                await self.dispatch("MESSAGE_CREATE", self._public(message))
            return self._json(self._public(message))
        message_id = ix.original_id if message_ref == "@original" else int(message_ref)
        message = self.messages.get(message_id) if message_id else None
        if message is None or message.get("_interaction") != ix.id:
            return self._error(404, 10008, "Unknown Message")
        if method == "GET":
            return self._json(self._public(message))
        if method == "PATCH":
            if "content" in body:
                message["content"] = body["content"] or ""
            if "components" in body:
                message["components"] = body["components"] or []
            message["flags"] &= ~LOADING
            message["edited_timestamp"] = p.now_iso()
            return self._json(self._public(message))
        if method == "DELETE":
            del self.messages[message_id]
            if message_id == ix.original_id:
                ix.deleted_original = True
            return web.Response(status=204)
        return self._error(405, 0, "405: Method Not Allowed")

    async def _channel_message(self, channel_id: int, body: dict) -> web.Response:
        dm_ids = {int(c["id"]) for c in self.dms.values()}
        if channel_id not in self.channels and channel_id not in self.threads and channel_id not in dm_ids:
            return self._error(404, 10003, "Unknown Channel")
        extra = {}
        if ref := body.get("message_reference"):
            extra = {"message_reference": ref, "type": 19}
        message = self._bot_message(channel_id, body, extra=extra)
        await self.dispatch("MESSAGE_CREATE", self._public(message))  # Discord echoes the bot's own messages
        return self._json(self._public(message))

    async def _edit_channel_message(self, channel_id: int, message_id: int, body: dict) -> web.Response:
        message = self.messages.get(message_id)
        if message is None or int(message["channel_id"]) != channel_id or "_interaction" in message:
            return self._error(404, 10008, "Unknown Message")
        if int(message["author"]["id"]) != self.bot_id:
            return self._error(403, 50005, "Cannot edit a message authored by another user")
        if "content" in body:
            message["content"] = body["content"] or ""
        if "components" in body:
            message["components"] = body["components"] or []
        message["edited_timestamp"] = p.now_iso()
        message["_payloads"] = message.get("_payloads", []) + [body]
        await self.dispatch("MESSAGE_UPDATE", self._public(message))  # Discord echoes edits too
        return self._json(self._public(message))

    async def _start_thread(self, channel_id: int, message_id: int, body: dict) -> web.Response:
        if channel_id not in self.channels or message_id not in self.messages:
            return self._error(404, 10008, "Unknown Message")
        thread_id = message_id  # a thread started from a message shares its id
        if thread_id in self.threads:
            return self._error(400, 160004, "A thread has already been created for this message")
        thread = p.thread_channel(thread_id, self.guild_id, channel_id, self.bot_id, body["name"])
        self.threads[thread_id] = thread
        await self.dispatch("THREAD_CREATE", dict(thread, newly_created=True))
        return self._json(thread)
