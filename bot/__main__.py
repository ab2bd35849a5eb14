"""`python -m bot`: read the settings, build the Newsdesk and the application service once,
run the bot until stopped."""

from __future__ import annotations

import asyncio
import logging
import signal
import sys

from retrieval.app import NewsdeskApp
from retrieval.config import RetrievalSettings
from retrieval.feedback import FeedbackStore
from retrieval.feeds import Poller
from retrieval.feedstore import FeedStore
from retrieval.schedules import DigestStore
from retrieval.service import build_newsdesk

from .client import NewsdeskBot
from .config import BotSettings
from .logs import setup_logging

log = logging.getLogger("bot")

FEEDBACK_FILE = "feedback.sqlite3"


async def main() -> int:
    settings = BotSettings()
    retrieval_settings = RetrievalSettings()
    setup_logging(retrieval_settings.log_level, settings.token)  # one LOG_LEVEL for the bot and the CLI
    if not settings.token:
        log.error("DISCORD_TOKEN is not set: see the README (“Running the Discord bot”) or .env.example.")
        return 2
    log.info("Loading the index from %s", retrieval_settings.data_dir)
    data_dir = retrieval_settings.data_dir
    newsdesk = await asyncio.to_thread(build_newsdesk, retrieval_settings)
    app = NewsdeskApp(newsdesk, feedback=FeedbackStore(data_dir / FEEDBACK_FILE),
                      reindex_folders=settings.reindex_folders, reindex_prune=settings.reindex_prune,
                      poller=Poller(FeedStore.in_dir(data_dir), newsdesk, retrieval_settings.feed_options()),
                      schedules=DigestStore.in_dir(data_dir))
    try:
        async with NewsdeskBot(app=app, settings=settings) as bot:
            await bot.start(settings.token)
    finally:
        app.close()
    return 0


def run() -> None:
    # Stop cleanly on Ctrl-C and on a service manager's SIGTERM, also when started as a
    # shell's background job, which inherits SIGINT ignored (Python then installs no handler).
    signal.signal(signal.SIGINT, signal.default_int_handler)
    signal.signal(signal.SIGTERM, signal.default_int_handler)
    try:
        sys.exit(asyncio.run(main()))
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    run()
