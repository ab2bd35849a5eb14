"""Showing an answer while it is written: the reply is edited as the text grows, at a modest rate.

With an LLM, `NewsdeskApp.ask(..., on_text=...)` calls `on_text(verified text so far)` on the
event loop each time another sentence has been checked. `EditThrottle` takes those texts
(`offer`) and passes the newest one to `show` (which edits the
Discord message) at most once per `interval` seconds: the first text at once, later ones
after the interval, texts that arrived meanwhile folded into the newest. `finish()` stops it
without waiting out the interval, but after any edit in flight has landed, so the final
answer's edit can never be overtaken by a stale partial one.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable

import discord

from retrieval.app import Asked, NewsdeskApp

log = logging.getLogger(__name__)


class EditThrottle:
    """Calls `show(text)` with the newest offered text, no more than once per `interval` seconds."""

    def __init__(self, show: Callable[[str], Awaitable[None]], interval: float):
        if interval <= 0:
            raise ValueError(f"the interval between edits must be positive, not {interval}")
        self._show = show
        self._interval = interval
        self._loop = asyncio.get_running_loop()
        self._pending: str | None = None
        self._changed = asyncio.Event()  # a newer text, or finish()
        self._finishing = False
        self._task: asyncio.Task | None = None
        self.shown: list[str] = []  # what `show` was called with, in order

    def offer(self, text: str) -> None:
        """A newer text (on the event loop): shown now if the last edit is old enough, else later."""
        if self._finishing:
            return
        if self._task is None:
            # the first text is shown as it is, whatever arrives before the task runs
            self._task = asyncio.create_task(self._run(text), name="newsdesk-stream-edits")
        else:
            self._pending = text
            self._changed.set()

    async def _run(self, text: str | None) -> None:
        while text is not None:
            try:
                await self._show(text)
            except discord.HTTPException as exc:
                # the final answer is still posted; a missed partial edit is no reason to fail
                log.info("Stopped streaming an answer: an edit failed (%s)", exc)
                self._finishing = True
                return
            except Exception:
                log.exception("Stopped streaming an answer: an edit failed")
                self._finishing = True
                return
            self.shown.append(text)
            # Rest for the interval (finish() cuts it short), then take the newest text.
            deadline = self._loop.time() + self._interval
            while not self._finishing and (left := deadline - self._loop.time()) > 0:
                self._changed.clear()
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._changed.wait(), left)
            while not self._finishing and self._pending is None:
                self._changed.clear()
                await self._changed.wait()
            text, self._pending = (None if self._finishing else self._pending), None

    async def finish(self) -> None:
        """No more edits; returns once an edit in flight (if any) is done."""
        self._finishing = True
        self._changed.set()
        if self._task is not None:
            await self._task


async def ask_streaming(app: NewsdeskApp, question: str, show_partial: Callable[[str], Awaitable[None]],
                        interval: float, **asking) -> Asked:
    """`app.ask(question, **asking)`, with the answer shown by `show_partial(text so far)` as it
    streams in, at most once per `interval` seconds; 0 shows the final answer only."""
    if interval <= 0:
        return await app.ask(question, **asking)
    throttle = EditThrottle(show_partial, interval)
    try:
        return await app.ask(question, on_text=throttle.offer, **asking)
    finally:
        await throttle.finish()
