"""Fixtures for the Discord bot tests: a loopback Discord, a bot driven against it, Newsdesks.

Imported into conftest.py. The real Newsdesk (model + index of the seed article) is built
once per session; each test gets its own fake Discord and bot (both start in well under a
second), so state never leaks between tests.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import shutil
import sqlite3
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio

from bot import BotSettings, NewsdeskBot
from retrieval.app import NewsdeskApp
from retrieval.feedback import FeedbackStore
from testing.discord_fake import FakeDiscord
from fake_newsdesk import FakeNewsdesk

__all__ = ["bot_factory", "fake_bot", "fake_discord", "fake_newsdesk", "seeded"]

REPO = Path(__file__).resolve().parent.parent
SEED = REPO / "seeds" / "000_71643a21d7a48199.txt"


@dataclass
class RunningBot:
    bot: NewsdeskBot
    fake: FakeDiscord
    task: asyncio.Task
    feedback: FeedbackStore
    app: NewsdeskApp

    async def stop(self) -> None:
        await self.bot.close()
        self.app.close()
        with contextlib.suppress(asyncio.CancelledError):
            await asyncio.wait_for(self.task, 10)


async def start_bot(fake: FakeDiscord, newsdesk: Any, data_dir: Path, *, app_options: dict | None = None,
                    **settings: Any) -> RunningBot:
    """Log the real discord.py client in to `fake` and wait until it is ready; `app_options`
    go to the application service's constructor (a feed poller, digest schedules, a clock)."""
    values = {
        "discord_token": "test-token.not-a-secret",
        "discord_api_base": fake.api_base,
        "discord_gateway_url": fake.gateway_url,
        "discord_guild_ids": [fake.guild_id],
        "ask_cooldown_seconds": 0,
        "reindex_progress_seconds": 0.05,
        "warm_up": False,
    } | settings
    bot_settings = BotSettings(_env_file=None, **values)
    feedback = FeedbackStore(data_dir / "feedback.sqlite3")
    app = NewsdeskApp(newsdesk, feedback=feedback, reindex_folders=bot_settings.reindex_folders,
                      reindex_prune=bot_settings.reindex_prune, **(app_options or {}))
    bot = NewsdeskBot(app=app, settings=bot_settings, guild_ready_timeout=0.05)
    await bot.login(bot_settings.token)
    task = asyncio.create_task(bot.connect(reconnect=True), name="bot-connect")
    ready = asyncio.create_task(bot.wait_until_ready())
    try:
        done, _ = await asyncio.wait({task, ready}, timeout=30, return_when=asyncio.FIRST_COMPLETED)
        if task in done:  # connect() ended: a malformed payload or a refused login
            task.result()
            raise AssertionError("the bot's connection ended before it was ready")
        if ready not in done:
            raise AssertionError("the bot did not become ready")
    except BaseException:
        ready.cancel()
        await bot.close()
        app.close()
        raise
    return RunningBot(bot, fake, task, feedback, app)


def stored_votes(path: Path, answer_id: int) -> dict[int, int]:
    """user id → vote on one answer, read from a feedback store's file."""
    with contextlib.closing(sqlite3.connect(path)) as db:
        return dict(db.execute("SELECT user_id, vote FROM votes WHERE answer_id = ?", (answer_id,)).fetchall())


@pytest_asyncio.fixture
async def fake_discord() -> AsyncIterator[FakeDiscord]:
    fake = FakeDiscord(heartbeat_interval=0.25)
    await fake.start()
    yield fake
    await fake.stop()
    assert fake.unknown_routes == [], "the bot called routes the fake Discord does not know"
    # Every message the bot sent or edited, in every test, must ping nobody.
    assert fake.payloads_that_may_ping() == []


@pytest.fixture
def fake_newsdesk() -> FakeNewsdesk:
    return FakeNewsdesk()


@pytest_asyncio.fixture
async def bot_factory(fake_discord: FakeDiscord, tmp_path: Path):
    """`await bot_factory(newsdesk, **settings)` → a RunningBot; all are stopped after the test."""
    running: list[RunningBot] = []

    async def make(newsdesk: Any, **settings: Any) -> RunningBot:
        run = await start_bot(fake_discord, newsdesk, tmp_path, **settings)  # app_options=… among them
        running.append(run)
        return run

    yield make
    for run in running:
        await run.stop()


@pytest_asyncio.fixture
async def fake_bot(bot_factory, fake_newsdesk: FakeNewsdesk) -> RunningBot:
    return await bot_factory(fake_newsdesk)


@dataclass
class Seeded:
    newsdesk: Any
    seeds: Path  # the folder holding the seed article, for /reindex
    data_dir: Path  # NEWSDESK_DATA_DIR of that index


@pytest.fixture(scope="session")
def seeded(model, tmp_path_factory: pytest.TempPathFactory) -> Seeded:
    """The real Newsdesk (the session's real model) over a copy of the seed article."""
    from retrieval.config import RetrievalSettings
    from retrieval.service import build_newsdesk

    root = tmp_path_factory.mktemp("bot-seeded")
    seeds = root / "seeds"
    seeds.mkdir()
    shutil.copy(SEED, seeds / SEED.name)
    config = RetrievalSettings(_env_file=None, newsdesk_data_dir=root / "data", chroma_host=None)
    # The default embeddings, as a deployment has them after its first index: the ONNX export
    # in the data directory, so a bot started on a copy of it never loads torch.
    newsdesk = build_newsdesk(config)
    report = newsdesk.index([seeds])
    assert (report.added, report.failed) == (1, 0), report.to_dict()
    gc.freeze()  # as the bot does after its warm-up: no ~0.4 s full collections over the model
    return Seeded(newsdesk, seeds, root / "data")
