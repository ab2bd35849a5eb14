"""The application service: what the front ends (Discord, `newsdesk chat`) do with the archive.

Front ends translate (events, slash commands, typed lines) and format; this service does
the work: it asks the Newsdesk and records the answer, summarises, lists sources,
re-indexes, records votes, reports stats, follows feeds and makes digests. Its thread pools
keep slow work off the caller's event loop, and each public method names the call that
crosses into one: retrieval never waits behind other work of the default executor (aiohttp
resolves host names there), a reindex never takes a question's thread, and SQLite writes
happen one at a time, in one thread.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import functools
import logging
import time
from collections.abc import Callable, Sequence
from concurrent.futures import Executor, ThreadPoolExecutor
from pathlib import Path
from typing import NamedTuple, Protocol, TypeVar

from .config import ASK_PASSAGES
from .digest import Digest, make_digest
from .errors import DateError, NewsdeskError, QuestionError
from .feedback import FeedbackStore, Stats
from .feeds import Poller, PollReport, utcnow
from .feedstore import FeedInfo
from .models import Answer, IndexReport, Passage, SourceInfo, Summary
from .question import check_question
from .reindex import Reindexer, ReindexJob
from .schedules import DigestStore, Schedule

log = logging.getLogger(__name__)

T = TypeVar("T")


class Desk(Protocol):
    """What the service asks of a Newsdesk (retrieval.service.Newsdesk; the bot tests' fake
    speaks it too, and a test compares their signatures with these)."""

    def index(self, paths: list[Path], *, prune: bool = False,
              progress: Callable[[int, int], None] | None = None) -> IndexReport: ...

    def search(self, query: str, *, k: int = 10, as_of: dt.date | None = None) -> list[Passage]: ...

    def ask(self, question: str, *, k: int = ASK_PASSAGES, as_of: dt.date | None = None,
            history: list[str] | None = None, on_text: Callable[[str], None] | None = None) -> Answer: ...

    def summarize_article(self, doc_id: str) -> Summary: ...

    def summarize_topic(self, topic: str, *, as_of: dt.date | None = None) -> Summary: ...

    def summarize_dates(self, since: dt.date, until: dt.date | None = None, *,
                        as_of: dt.date | None = None) -> Summary: ...

    def sources(self) -> list[SourceInfo]: ...

    def close(self, timeout: float | None = 10.0) -> None: ...


def summary_kind(article: str | None, topic: str | None, since: str | None, until: str | None) -> str:
    """Which summary a front end's options ask for ("article", "topic" or "dates"); a
    QuestionError saying how to ask when they do not fit together."""
    forms = [article is not None, topic is not None, since is not None or until is not None]
    if sum(forms) != 1:
        raise QuestionError("Give exactly one of `article:`, `topic:`, or `since:` (with an optional `until:`).")
    if until is not None and since is None:
        raise QuestionError("`until:` needs a `since:` date too.")
    return "article" if article is not None else "topic" if topic is not None else "dates"


def parse_day(value: str, name: str) -> dt.date:
    """A front end's date option (YYYY-MM-DD)."""
    try:
        return dt.date.fromisoformat(value.strip())
    except ValueError:
        raise DateError(f"“{value}” is not a date I understand for {name}.") from None


class Asked(NamedTuple):
    answer: Answer
    answer_id: int | None  # the id its feedback buttons carry; None when answers are not recorded


class NewsdeskApp:
    def __init__(self, newsdesk: Desk, *, feedback: FeedbackStore | None = None,
                 reindex_folders: Sequence[Path] = (), reindex_prune: bool = True, poller: Poller | None = None,
                 schedules: DigestStore | None = None, clock: Callable[[], dt.datetime] = utcnow,
                 retrieval_threads: int = 4):
        self.newsdesk = newsdesk
        self.feedback = feedback
        self.poller = poller  # feeds: none followed when None
        self.schedules = schedules  # digest schedules: none kept when None
        self.clock = clock  # "now" for feed polls and digest schedules; tests bring their own
        self._retrieval_pool = ThreadPoolExecutor(retrieval_threads, thread_name_prefix="newsdesk-retrieval")
        self._reindex_pool = ThreadPoolExecutor(1, thread_name_prefix="newsdesk-reindex")
        self._store_pool = ThreadPoolExecutor(1, thread_name_prefix="newsdesk-store")
        self._poll_pool = ThreadPoolExecutor(1, thread_name_prefix="newsdesk-feeds")
        self.reindexer = Reindexer(newsdesk.index, reindex_folders, prune=reindex_prune, executor=self._reindex_pool)
        self._poll_wakeup = asyncio.Event()
        self.titles: list[SourceInfo] = []  # the indexed articles as last listed (for autocomplete)
        self.titles_at = 0.0  # time.monotonic() of that listing
        self._first_listing: asyncio.Task | None = None

    # -- questions -------------------------------------------------------------------------
    async def ask(self, question: str, *, as_of: dt.date, history: Sequence[str] = (), k: int = ASK_PASSAGES,
                  on_text: Callable[[str], None] | None = None, via: str, user_id: int = 0,
                  guild_id: int | None = None, channel_id: int | None = None,
                  thread_id: int | None = None) -> Asked:
        """Ask the Newsdesk, then record the answer (when answers are kept).

        `as_of` is the day the question was asked (its message's date); `history` the earlier
        questions of its thread, oldest first (the Newsdesk reads the last ASK_HISTORY). When the
        composer streams (an LLM), `on_text(verified text so far)` is called on the caller's
        event loop as the answer grows; the offline composer never streams.
        """
        question = check_question(question)
        relay = None if on_text is None else _on_this_loop(on_text)
        answer = await self._retrieval(functools.partial(
            self.newsdesk.ask, question, k=k, as_of=as_of, history=list(history) or None, on_text=relay))
        if self.feedback is None:
            return Asked(answer, None)
        answer_id = await self._store(functools.partial(
            self.feedback.record_answer, via=via, user_id=user_id, question=question, answer=answer.text,
            abstained=answer.abstained, citations=len(answer.citations), abstained_because=answer.abstained_because,
            guild_id=guild_id, channel_id=channel_id, thread_id=thread_id))
        return Asked(answer, answer_id)

    async def thread_questions(self, thread_id: int) -> list[str]:
        """The questions already answered in a thread, oldest first."""
        if self.feedback is None:
            return []
        return await self._store(functools.partial(self.feedback.thread_questions, thread_id))

    async def record_vote(self, answer_id: int, user_id: int, vote: int) -> bool:
        """Store (or change) a user's 👍 (1) or 👎 (-1); False if the answer is not on record."""
        if self.feedback is None:
            return False
        return await self._store(functools.partial(self.feedback.record_vote, answer_id, user_id, vote))

    async def stats(self) -> Stats:
        if self.feedback is None:
            return Stats(0, 0, 0, 0)
        return await self._store(self.feedback.stats)

    # -- summaries and the catalogue -------------------------------------------------------
    async def summarize_article(self, key: str) -> Summary:
        """An article by id or title (retrieval resolves either)."""
        return await self._retrieval(functools.partial(self.newsdesk.summarize_article, key.strip()))

    async def summarize_topic(self, topic: str, *, as_of: dt.date) -> Summary:
        topic = check_question(topic)
        return await self._retrieval(functools.partial(self.newsdesk.summarize_topic, topic, as_of=as_of))

    async def summarize_dates(self, since: dt.date, until: dt.date | None = None, *, as_of: dt.date) -> Summary:
        """The news from `since` to `until`, which defaults to the day asked (`as_of`)."""
        return await self._retrieval(functools.partial(self.newsdesk.summarize_dates, since, until, as_of=as_of))

    async def sources(self) -> list[SourceInfo]:
        """The indexed articles, newest first; kept as `titles` for autocomplete."""
        found = await self._retrieval(self.newsdesk.sources)
        self.titles, self.titles_at = found, time.monotonic()
        return found

    def list_titles_in_background(self) -> asyncio.Task:
        """Start listing the titles: on a large archive a listing takes seconds (every chunk's
        metadata, for an archive indexed before its records listed each article), which a
        bot's start-up need not wait for."""
        self._first_listing = asyncio.create_task(self.refresh_titles(), name="newsdesk-titles")
        return self._first_listing

    async def first_titles(self, timeout: float = 2.0) -> None:
        """Wait, briefly (autocomplete must answer within 3 s), for the listing started at start-up."""
        if self._first_listing is not None and not self._first_listing.done():
            await asyncio.wait({self._first_listing}, timeout=timeout)

    async def refresh_titles(self) -> None:
        try:
            await self.sources()
        except NewsdeskError as exc:
            log.warning("Could not list the indexed articles: %s", exc)

    async def warm_up(self) -> None:
        """Load the model and the index now, so the first question is not the slow one."""
        try:
            await self._retrieval(functools.partial(self.newsdesk.search, "warm up", k=1))
        except NewsdeskError as exc:
            log.warning("Warm-up search failed: %s", exc)

    # -- re-indexing -----------------------------------------------------------------------
    @property
    def reindex_folders(self) -> list[Path]:
        return self.reindexer.folders

    @property
    def current_reindex(self) -> ReindexJob | None:
        return self.reindexer.current

    def start_reindex(self, started_by: int) -> ReindexJob | None:
        """Re-index the folders in the reindex thread; None if a reindex is already running."""
        return self.reindexer.start(started_by)

    # -- feeds -----------------------------------------------------------------------------
    @property
    def feed_every_s(self) -> float:
        """How often a feed is polled unless its follower says otherwise."""
        return self.poller.options.every_s

    async def follow_feed(self, url: str, every_s: float) -> FeedInfo:
        """Follow a feed; it is polled at once."""
        info = await self._store(functools.partial(self.poller.feeds.add, url, every_s, self.clock().timestamp()))
        self._poll_wakeup.set()
        return info

    async def feeds(self) -> list[FeedInfo]:
        return await self._store(self.poller.feeds.list)

    async def unfollow_feed(self, url: str) -> None:
        await self._store(functools.partial(self.poller.feeds.remove, url))

    async def poll_feeds(self, *, due_only: bool = True) -> PollReport:
        """Poll the due feeds (all, without `due_only`) in the poll thread (indexing takes the
        index's writer lock)."""
        return await _run_in(self._poll_pool, functools.partial(self.poller.poll, due_only=due_only))

    async def poll_forever(self, every_s: float) -> None:
        """Poll the due feeds, again and again, until cancelled; sooner when a feed was just
        followed. A failing poll is logged and the loop goes on."""
        while True:
            try:
                report = await self.poll_feeds()
            except NewsdeskError as exc:
                log.warning("Feed poll failed: %s", exc)
            except Exception:
                log.exception("Feed poll failed")
            else:
                if report.feeds:
                    log.info("Polled %d feeds: %s", len(report.feeds), report.to_dict()["total"])
                if report.changed:
                    await self.refresh_titles()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._poll_wakeup.wait(), every_s)
            self._poll_wakeup.clear()

    # -- digests ---------------------------------------------------------------------------
    async def digest(self, since: dt.date, *, topic: str | None = None,
                     exclude: set[str] | frozenset[str] = frozenset()) -> Digest:
        """What is new since a day, as cited stories (retrieval/digest.py)."""
        return await self._retrieval(functools.partial(make_digest, self.newsdesk, since, topic=topic,
                                                       exclude=exclude))

    async def schedule_digest(self, guild_id: int, channel_id: int, hour: int, minute: int, weekday: int | None,
                              topic: str) -> Schedule:
        return await self._store(functools.partial(self.schedules.set, guild_id, channel_id, hour, minute, weekday,
                                                   topic, self.clock().timestamp()))

    async def digest_schedule(self, guild_id: int) -> Schedule | None:
        return await self._store(functools.partial(self.schedules.get, guild_id))

    async def digest_schedules(self) -> list[Schedule]:
        return await self._store(self.schedules.all)

    async def stop_digest(self, guild_id: int) -> bool:
        return await self._store(functools.partial(self.schedules.remove, guild_id))

    async def posted_in(self, guild_id: int) -> set[str]:
        """The articles a server's digests have posted."""
        return await self._store(functools.partial(self.schedules.posted, guild_id))

    async def record_digest(self, guild_id: int, doc_ids: list[str], *, slot: float | None, now: float) -> None:
        await self._store(functools.partial(self.schedules.record, guild_id, doc_ids, slot=slot, now=now))

    # -- lifetime --------------------------------------------------------------------------
    def close(self) -> None:
        """Stop the threads (work in flight is abandoned) and let a BM25 rebuild finish saving."""
        for pool in (self._retrieval_pool, self._reindex_pool, self._store_pool, self._poll_pool):
            pool.shutdown(wait=False, cancel_futures=True)
        self.newsdesk.close()

    # The two thread crossings every named call above goes through.
    async def _retrieval(self, call: Callable[[], T]) -> T:
        return await _run_in(self._retrieval_pool, call)

    async def _store(self, call: Callable[[], T]) -> T:
        return await _run_in(self._store_pool, call)


def _on_this_loop(callback: Callable[[str], None]) -> Callable[[str], None]:
    """`callback`, callable from a worker thread: it runs on the current event loop."""
    loop = asyncio.get_running_loop()

    def relay(text: str) -> None:
        with contextlib.suppress(RuntimeError):  # the loop has closed: shutting down
            loop.call_soon_threadsafe(callback, text)

    return relay


async def _run_in(pool: Executor, call: Callable[[], T]) -> T:
    return await asyncio.get_running_loop().run_in_executor(pool, call)
