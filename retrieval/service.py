"""The Newsdesk facade: the one object the CLI, the application service and the benchmarks
talk to.

It holds the long-lived parts (the embedding model, the Chroma store, the BM25 copy, the
composer), all passed to its constructor, and exposes the user's verbs: index, search, ask,
summarize, list sources. `build_newsdesk(settings)` is the one place the parts are chosen;
variants (benchmarks, tests) come from `with_parts`. Safe to call from worker threads while
an index run goes on.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import logging
import threading
import time
from collections.abc import Callable, Iterable
from pathlib import Path

from langchain_core.embeddings import Embeddings

from . import summaries
from .answer_model import AnswerModel
from .answers import ABSTAIN_OFF_TOPIC, ABSTAIN_STALE, Composer, ComposerOptions
from .chunking import Chunker
from .composer import AnswerComposer
from .config import ASK_HISTORY, ASK_PASSAGES, RetrievalSettings
from .dates import read_dates
from .dedup import CopyIndex
from .embeddings import build_embeddings
from .errors import ArticleError, DateError, IndexBusyError, NotFoundError
from .indexer import MAX_ARTICLE_CHARS, Indexer, WriteHook
from .ingest import iter_articles
from .lexical_copy import LexicalCopy
from .models import Answer, Article, CheckReport, IndexReport, Passage, SourceInfo, Summary
from .question import check_question, in_context, overview_topic, quoted_spans, reads_as_follow_up
from .search import SearchOptions, Searcher, TimeHints, article_reader
from .store import ChunkStore, StoredArticle, date_from_number, date_number, embedded_client, server_client
from .writelock import FileWriterLock, LeaseWriterLock

log = logging.getLogger(__name__)

FOLD_SPARE = 4  # extra passages searched for when copies may be folded away (two articles' worth)


class Newsdesk:
    def __init__(self, *, store: ChunkStore, embeddings: Embeddings, lexical: LexicalCopy, searcher: Searcher,
                 composer: AnswerComposer, chunker: Chunker, writer_lock: FileWriterLock | LeaseWriterLock,
                 data_dir: Path, copies: CopyIndex | None = None, max_article_chars: int = MAX_ARTICLE_CHARS,
                 history: int = ASK_HISTORY):
        self.data_dir = data_dir  # where its files live (the BM25 copy, the copies index): for front ends' own stores
        self.store = store
        self.embeddings = embeddings
        self.lexical = lexical  # the BM25 copy of the store, which the searcher and composer read too
        self.searcher = searcher
        self.composer = composer
        self.chunker = chunker
        # One run per process (`_index_lock`); across processes, `writer_lock`.
        self.writer_lock = writer_lock
        self._index_lock = threading.Lock()
        # Syndicated copies (retrieval/dedup.py): found at ingest, folded into their original
        # in search and named in its citation. None: every article stands alone.
        self.copy_index = copies
        self.max_article_chars = max_article_chars
        self.history = history  # earlier questions of a thread a follow-up is read with

    def with_parts(self, **parts) -> Newsdesk:
        """A new Newsdesk with some parts replaced (a benchmark's searcher or composer); it
        shares the others with this one."""
        current = {"store": self.store, "embeddings": self.embeddings, "lexical": self.lexical,
                   "searcher": self.searcher, "composer": self.composer, "chunker": self.chunker,
                   "writer_lock": self.writer_lock, "data_dir": self.data_dir, "copies": self.copy_index,
                   "max_article_chars": self.max_article_chars, "history": self.history}
        unknown = parts.keys() - current.keys()
        if unknown:
            raise TypeError(f"a Newsdesk has no part {', '.join(sorted(unknown))}")
        return Newsdesk(**(current | parts))

    def close(self, timeout: float | None = 10.0) -> None:
        """Let a background BM25 rebuild finish saving its copy (at shutdown)."""
        self.lexical.wait(timeout)

    # -- the verbs --------------------------------------------------------------------------
    def index(self, paths: list[Path], *, prune: bool = False,
              progress: Callable[[int, int], None] | None = None, wait: bool = False,
              on_wait: Callable[[], None] | None = None, on_write: WriteHook | None = None) -> IndexReport:
        """Index articles from files and folders incrementally; one run at a time.

        While another process writes to the same index, wait for it (`on_wait` is called once
        first) or, without `wait`, raise IndexBusyError. `on_write` is called after each write."""
        return self._write_run(lambda indexer, items: indexer.run_items(items, prune=prune, progress=progress),
                               iter_articles(paths), wait=wait, on_wait=on_wait, on_write=on_write)

    def index_articles(self, items: Iterable[Article | ArticleError], *, wait: bool = True,
                       progress: Callable[[int, int], None] | None = None,
                       on_wait: Callable[[], None] | None = None) -> IndexReport:
        """Index articles read elsewhere (feed entries) the same way as files: one run at a
        time, only new or changed articles embedded, nothing ever pruned."""
        return self._write_run(lambda indexer, seen: indexer.run_items(seen, progress=progress), items,
                               wait=wait, on_wait=on_wait, on_write=None)

    def _write_run(self, run: Callable[[Indexer, Iterable[Article | ArticleError]], IndexReport],
                   items: Iterable[Article | ArticleError], *, wait: bool,
                   on_wait: Callable[[], None] | None, on_write: WriteHook | None) -> IndexReport:
        if not self._index_lock.acquire(blocking=False):
            raise IndexBusyError("an indexing run is already in progress; try again when it has finished")
        try:
            with self.writer_lock.hold(wait=wait, on_wait=on_wait), self.lexical.writing():
                indexer = Indexer(self.store, self.chunker, self.embeddings,
                                  max_article_chars=self.max_article_chars, on_write=on_write)
                read: list[Article] = []
                report = run(indexer, self._observed(items, read))
                self._find_copies(read, report)
                if report.changed or report.repaired or not self.lexical.loaded:
                    # The run ended with a new generation if it changed anything (Indexer._finish),
                    # which tells other processes that their BM25 copies are stale.
                    self.lexical.reload(self.store.generation())
                return report
        finally:
            self._index_lock.release()

    @staticmethod
    def _observed(items: Iterable[Article | ArticleError], read: list[Article]):
        for item in items:
            if isinstance(item, Article):
                read.append(item)
            yield item

    def _find_copies(self, read: list[Article], report: IndexReport) -> None:
        """Record which of the articles just indexed are copies of others (and forget the
        deleted ones). A failure here costs the folding of copies, never the index run."""
        if self.copy_index is None:
            return
        failed = {where for where, _ in report.failures}
        try:
            self.copy_index.update(a for a in read if a.origin not in failed)
            if report.deleted:
                self.copy_index.forget(self.copy_index.known() - set(self.store.articles()))
        except Exception:  # noqa: BLE001 - folding is an extra: log it, keep the run's result
            log.exception("could not update the index of syndicated copies")

    def copies(self) -> dict[str, str]:
        """copy id -> the id of its original, for every known syndicated copy."""
        return self.copy_index.copies() if self.copy_index is not None else {}

    def check(self, *, wait: bool = False, on_wait: Callable[[], None] | None = None) -> CheckReport:
        """Verify the store against its article records and repair it (see Indexer.repair)."""
        if not self._index_lock.acquire(blocking=False):
            raise IndexBusyError("an indexing run is already in progress; try again when it has finished")
        try:
            with self.writer_lock.hold(wait=wait, on_wait=on_wait), self.lexical.writing():
                self.store.check_model()
                report = Indexer(self.store, self.chunker, self.embeddings).repair()
                if report.repaired or report.broken:
                    self.lexical.reload(self.store.mark_changed())
                return report
        finally:
            self._index_lock.release()

    def search(self, query: str, *, k: int = 10, as_of: dt.date | None = None) -> list[Passage]:
        return self._search(check_question(query), k=k, as_of=as_of)

    def _search(self, query: str, *, k: int, as_of: dt.date | None, hints: TimeHints | None = None) -> list[Passage]:
        self.store.check_model()
        hints = hints or self.time_hints(query, as_of)
        copies = self.copies()
        if not copies:
            return self.searcher.search(query, k=k, as_of=as_of, hints=hints)
        # One story, one result: copies are dropped, their original (the same text) stays.
        found = self.searcher.search(query, k=k + FOLD_SPARE, as_of=as_of, hints=hints)
        return [p for p in found if p.doc_id not in copies][:k]

    def time_hints(self, question: str, as_of: dt.date | None) -> TimeHints:
        """What the question implies about time, against its as-of date (else the newest article)."""
        reference = as_of or date_from_number(self.lexical.newest())
        if reference is None:
            return TimeHints()
        said = read_dates(question, reference)
        return TimeHints(reference=reference, window=said.window, present=said.present)

    def ask(self, question: str, *, k: int = ASK_PASSAGES, as_of: dt.date | None = None,
            history: list[str] | None = None, on_text: Callable[[str], None] | None = None) -> Answer:
        """A cited answer; `history` holds a thread's earlier questions, oldest first, of which
        the last `self.history` are read with this one. With an LLM, `on_text(verified text so
        far)` is called as its answer streams."""
        question = check_question(question)
        # Only the new question is checked for length, so a long thread never makes a
        # follow-up "too long".
        earlier = list(history or [])[-self.history:] if self.history else []
        # A follow-up is read with its thread, and alone when that finds no answer; a question
        # that stands alone is read alone. Natural-dev's questions, each asked after one about
        # another story, were right 0.258 of the time when read with it, 0.767 alone
        # (bench/RESULTS.md, "Questions in a thread").
        follow_up = bool(earlier) and reads_as_follow_up(question)
        answer = self._answer(question, earlier if follow_up else [], k=k, as_of=as_of, on_text=on_text)
        if follow_up and answer.abstained:
            alone = self._answer(question, [], k=k, as_of=as_of, on_text=on_text)
            answer = answer if alone.abstained else alone
        topic = overview_topic(question)
        if topic is not None and answer.abstained_because not in (ABSTAIN_OFF_TOPIC, ABSTAIN_STALE):
            # "Tell me about the border" asks for no one fact (no one sentence answers it well
            # enough): when the archive is close to it, it gets the topic's key sentences.
            answer = self._overview(question, in_context(topic, earlier) if follow_up else topic, answer, as_of)
        return self._with_copies(answer)

    def _overview(self, question: str, topic: str, answer: Answer, as_of: dt.date | None) -> Answer:
        # The topic is part of a checked question, or read with its thread's checked questions
        # (which together may be longer than one question may be).
        summary, passages = self._topic_summary(topic, as_of)
        if not summary.citations:
            return answer
        return Answer(question=question, text=summary.text, abstained=False, citations=summary.citations,
                      passages=passages, note=f"The key sentences on “{topic}”: the question asks for no one fact.",
                      similarity=answer.similarity)

    def _answer(self, question: str, earlier: list[str], *, k: int, as_of: dt.date | None,
                on_text: Callable[[str], None] | None) -> Answer:
        """The answer to `question` read with the thread's `earlier` questions."""
        context = in_context(question, earlier)
        # A quote's own words ("this week", "on Friday") say nothing of when the news asked for
        # is: someone quoting the archive asks where the words come from, from any period.
        hints = TimeHints() if quoted_spans(question) else self.time_hints(context, as_of)
        passages = self._search(context, k=k, as_of=as_of, hints=hints)
        return self.composer.compose(question, passages, history=earlier, as_of=as_of,
                                     recent_since=hints.recent_since(), on_text=on_text)

    def _with_copies(self, answer: Answer) -> Answer:
        """Each citation names where else its story appeared ("also in: …")."""
        if self.copy_index is None or not answer.citations:
            return answer
        cited = []
        for c in answer.citations:
            also = self.copy_index.copies_of(c.doc_id)
            cited.append(dataclasses.replace(c, also_in=tuple(dict.fromkeys(source or doc for doc, source in also))) if also else c)
        return dataclasses.replace(answer, citations=cited)

    def summarize_article(self, doc_id: str) -> Summary:
        """Key sentences of one article, by id or (unambiguous) title."""
        doc = self.find_article(doc_id)
        chunks = self.store.chunks_of(doc.doc_id)
        return self._written(summaries.summarize_article(doc, chunks), lambda: summaries.article_passages(chunks))

    def summarize_topic(self, topic: str, *, as_of: dt.date | None = None) -> Summary:
        return self._topic_summary(check_question(topic), as_of)[0]

    def _topic_summary(self, topic: str, as_of: dt.date | None) -> tuple[Summary, list[Passage]]:
        """A topic's summary and the passages it was drawn from."""
        passages = self._search(topic, k=8, as_of=as_of)
        summary = summaries.summarize_topic(topic, passages, self.embeddings, self.composer.options, self.lexical.idf)
        return self._written(summary, lambda: passages), passages

    def summarize_dates(self, since: dt.date, until: dt.date | None = None, *, as_of: dt.date | None = None) -> Summary:
        """The news from `since` to `until`, which defaults to the day it is asked as of
        (`as_of`, as for questions; today when not given)."""
        until = until or as_of or dt.date.today()
        if until < since:
            raise DateError(f"the period ends ({until}) before it starts ({since})")
        in_period = {"$and": [{"date_num": {"$gte": date_number(since)}}, {"date_num": {"$lte": date_number(until)}}]}
        docs = list(self.store.articles(in_period).values())
        summary = summaries.summarize_period(since, until, docs, self.store.chunks_of)
        return self._written(summary, lambda: summaries.period_passages(docs, self.store.chunks_of))

    def _written(self, summary: Summary, passages: Callable[[], list[Passage]]) -> Summary:
        """The composer's own summary of the same material, when it writes one (an LLM); the
        material is read only then."""
        if not self.composer.writes or not summary.citations:
            return summary
        return self.composer.summarize(summary, passages())

    def sources(self) -> list[SourceInfo]:
        """The indexed articles, newest first."""
        docs = sorted(self.store.articles().values(), key=lambda d: (d.date or "", d.doc_id), reverse=True)
        return [SourceInfo(d.doc_id, d.title, d.source, d.date, d.url, len(d.chunk_ids)) for d in docs]

    def find_article(self, key: str) -> StoredArticle:
        """An article by id, else by title (exact, then unique substring, case-insensitive)."""
        by_id = self.store.articles({"doc_id": key})
        if key in by_id:
            return by_id[key]
        docs = self.store.articles()  # a title: every article has to be looked at
        wanted = key.strip().lower()
        exact = [d for d in docs.values() if d.title.lower() == wanted]
        partial = exact or [d for d in docs.values() if wanted and wanted in d.title.lower()]
        if len(partial) == 1:
            return partial[0]
        if partial:
            names = "; ".join(sorted(f"{d.doc_id} ({d.title})" for d in partial)[:5])
            raise NotFoundError(f"{len(partial)} articles match {key!r}, e.g. {names}: give the id")
        raise NotFoundError(f"no indexed article has the id or title {key!r} (see `newsdesk sources`)")


def build_newsdesk(settings: RetrievalSettings, *, embeddings: Embeddings | None = None,
                   store: ChunkStore | None = None, search_options: SearchOptions | None = None,
                   composer_options: ComposerOptions | None = None,
                   clock: Callable[[], float] = time.monotonic) -> Newsdesk:
    """The Newsdesk the settings describe: the one place its parts are chosen (embedded store
    or Chroma server, offline or LLM composer). A caller may bring its own embeddings or store
    (tests, benchmarks), composer and search options, or the clock the BM25 copy checks the
    store by (tests)."""
    embeddings = embeddings or build_embeddings(settings.embedding_model, settings.data_dir,
                                                settings.embedding_backend)
    if store is None:
        timeout = settings.store_timeout_s
        if settings.chroma_host:
            client = server_client(settings.chroma_host, settings.chroma_port, timeout)
        else:
            client = embedded_client(settings.data_dir / "chroma", timeout)
        store = ChunkStore(client, embeddings, model_name=settings.embedding_model,
                           collection_name=settings.chroma_collection, timeout_s=timeout)
    # Writers on one data directory share a file lock; on a server, possibly from other
    # machines, a lease in the collection's records.
    lock = (LeaseWriterLock(store, ttl_s=settings.index_lease_s) if settings.chroma_host
            else FileWriterLock(settings.data_dir / "index.lock"))
    lexical = LexicalCopy.beside(store, settings.data_dir, clock=clock)
    # Rare words shared with the question count more; the BM25 copy knows which are rare.
    answer_model = AnswerModel()
    if composer_options is None:
        composer_options = ComposerOptions(min_answer_probability=answer_model.min_probability)
    composer: AnswerComposer = Composer(embeddings, composer_options, idf=lexical.idf, answer_model=answer_model,
                                        article_passages=article_reader(store))
    if settings.llm_provider != "none":
        # Optional LLM answers: they wrap the offline composer, which stays the fallback.
        # Imported here: without an LLM, its client libraries are never loaded.
        from .llm_composer import LLMComposer

        composer = LLMComposer.from_settings(settings, composer)
    return Newsdesk(store=store, embeddings=embeddings, lexical=lexical,
                    searcher=Searcher(store, embeddings, lexical.current, search_options), composer=composer,
                    chunker=Chunker(settings.chunk_size, settings.chunk_overlap), writer_lock=lock,
                    data_dir=settings.data_dir,
                    copies=CopyIndex.in_dir(settings.data_dir) if settings.fold_copies else None,
                    max_article_chars=settings.max_article_chars, history=settings.ask_history)
