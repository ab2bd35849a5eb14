"""One background reindex at a time, with its progress readable from the event loop."""

from __future__ import annotations

import asyncio
import functools
import logging
from collections.abc import Callable, Sequence
from concurrent.futures import Executor
from pathlib import Path

from .models import IndexReport

log = logging.getLogger(__name__)


class ReindexJob:
    """One indexing run (`index(progress=...)`) in a worker thread; `done`/`total` read on the loop."""

    def __init__(self, index: Callable[..., IndexReport], *, started_by: int):
        self.index = index
        self.started_by = started_by
        self.done = 0
        self.total = 0
        self.task: asyncio.Task[IndexReport] | None = None

    def start(self, executor: Executor) -> asyncio.Task[IndexReport]:
        loop = asyncio.get_running_loop()

        def progress(done: int, total: int) -> None:  # called from the worker thread
            try:
                loop.call_soon_threadsafe(self._progress, done, total)
            except RuntimeError:  # the loop closed while indexing went on
                pass

        async def run() -> IndexReport:
            return await loop.run_in_executor(executor, functools.partial(self.index, progress=progress))

        self.task = asyncio.create_task(run(), name="newsdesk-reindex")
        return self.task

    def _progress(self, done: int, total: int) -> None:
        self.done, self.total = done, total

    @property
    def running(self) -> bool:
        return self.task is not None and not self.task.done()


class Reindexer:
    """Starts reindex jobs, refusing a second while one runs."""

    def __init__(self, index: Callable[..., IndexReport], folders: Sequence[Path], *, prune: bool,
                 executor: Executor):
        self.index = index  # Newsdesk.index
        self.folders = list(folders)
        self.prune = prune
        self.executor = executor
        self.current: ReindexJob | None = None

    def start(self, started_by: int) -> ReindexJob | None:
        """A new running job, or None if one is already running (check and start in one step)."""
        if self.current is not None and self.current.running:
            return None
        job = ReindexJob(functools.partial(self.index, self.folders, prune=self.prune), started_by=started_by)
        job.start(self.executor)
        self.current = job
        return job
