"""Readable logs that never show the bot token."""

from __future__ import annotations

import logging


class RedactToken(logging.Filter):
    """Replaces the token wherever it would appear in a record (message, arguments, traceback)."""

    def __init__(self, token: str):
        super().__init__()
        self.token = token

    def filter(self, record: logging.LogRecord) -> bool:
        if not self.token:
            return True
        message = record.getMessage()
        if self.token in message:
            record.msg, record.args = message.replace(self.token, "[token]"), None
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text and self.token in record.exc_text:
            record.exc_text = record.exc_text.replace(self.token, "[token]")
        return True


PLAIN = "%(asctime)s %(levelname)-8s %(name)s: %(message)s"


def setup_logging(level: str, token: str | None) -> None:
    """discord.py's format on the root logger (colours only on a terminal), token redacted."""
    import sys

    import discord

    handler = logging.StreamHandler(sys.stderr)
    # The handler filters too: bm25s sets its own logger to DEBUG when imported, so a re-index
    # would print its debug lines at any LOG_LEVEL.
    handler.setLevel(logging.getLevelName(level.upper()))
    formatter = None if sys.stderr.isatty() else logging.Formatter(PLAIN, "%Y-%m-%d %H:%M:%S")
    discord.utils.setup_logging(handler=handler, formatter=formatter, level=logging.getLevelName(level.upper()),
                                root=True)
    if token:
        for handler in logging.getLogger().handlers:
            handler.addFilter(RedactToken(token))
