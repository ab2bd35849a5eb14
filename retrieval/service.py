"""The Newsdesk facade: the one object the CLI, the bot and the benchmarks talk to.

It owns the long-lived pieces (the embedding model, the Chroma store, the BM25 index) and
exposes the user's verbs: index, search, ask, summarize, list sources. Built once at an
entry point from settings; safe to call from worker threads while an index run goes on.
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
from .answers import AnswerScorer, Composer, ComposerOptions
from .chunking import Chunker
from .config import ASK_PASSAGES, RetrievalSettings
from .dates import read_dates
from .dedup import CopyIndex
from .embeddings import build_embeddings
from .errors import ArticleError, DateError, IndexBusyError, NotFoundError, QuestionError
from .indexer import MAX_ARTICLE_CHARS, Indexer, WriteHook
from .ingest import iter_articles
from .lexical import LexicalIndex
from .lexical_store import LexicalFiles
from .llm_composer import article_passages, period_passages
from .models import Answer, Article, CheckReport, IndexReport, Passage, SourceInfo, Summary
from .search import SearchOptions, Searcher, TimeHints
from .store import ChunkStore, StoredArticle, date_from_number, date_number, embedded_client, server_client
from .writelock import FileWriterLock, LeaseWriterLock

log = logging.getLogger(__name__)

MAX_QUESTION_CHARS = 500
FOLD_SPARE = 4  # extra passages searched for when copies may be folded away (two articles' worth)


def check_question(question: str) -> str:
    """The question, stripped; a QuestionError with a helpful message when it cannot be asked."""
    text = " ".join((question or "").split())
    if not text:
        raise QuestionError("Please ask a question, e.g. “which border crossings closed?”")
    if len(text) > MAX_QUESTION_CHARS:
        raise QuestionError(f"That question is {len(text)} characters long; please keep it under {MAX_QUESTION_CHARS}.")
    if not any(ch.isalnum() for ch in text):
        raise QuestionError("That question has no words in it; please ask in words, e.g. “who won the election?”")
    return text


class Newsdesk:
    def __init__(self, store: ChunkStore, embeddings: Embeddings, *, data_dir: Path,
                 chunker: Chunker | None = None, search_options: SearchOptions | None = None,
                 composer_options: ComposerOptions | None = None, answer_model: AnswerScorer | None = None,
                 lexical_check_seconds: float = 10.0, writer_lock: FileWriterLock | LeaseWriterLock | None = None,
                 max_article_chars: int = MAX_ARTICLE_CHARS, copies: CopyIndex | None = None):
        self.store = store
        self.embeddings = embeddings
        self.data_dir = data_dir
        self.chunker = chunker or Chunker()
        # Rare words shared with the question count more; the BM25 index knows which are rare.
        self.composer = Composer(embeddings, composer_options, idf=self.idf, answer_model=answer_model)
        self.searcher = Searcher(store, embeddings, self.lexical_index, search_options)
        self._lexical: LexicalIndex | None = None
        self._lexical_generation = ""  # the store's generation the BM25 copy was loaded at
        self._lexical_checked = 0.0
        # Another process or machine (a CLI run, a second bot on a Chroma server) may index
        # too: its writes change the store's generation, checked at most this often.
        self.lexical_check_seconds = lexical_check_seconds
        self._lexical_rebuild: threading.Thread | None = None
        self._lexical_lock = threading.Lock()
        self._index_lock = threading.Lock()  # one run per process; `writer_lock` across processes
        self.writer_lock = writer_lock or FileWriterLock(data_dir / "index.lock")
        self.max_article_chars = max_article_chars
        # Syndicated copies (retrieval/dedup.py): found at ingest, folded into their original
        # in search and named in its citation. None: every article stands alone.
        self.copy_index = copies

    @classmethod
    def from_settings(cls, settings: RetrievalSettings, embeddings: Embeddings | None = None) -> Newsdesk:
        embeddings = embeddings or build_embeddings(settings.embedding_model, settings.data_dir,
                                                    settings.embedding_backend)
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
        desk = cls(store, embeddings, data_dir=settings.data_dir,
                   chunker=Chunker(settings.chunk_size, settings.chunk_overlap), answer_model=AnswerModel(),
                   writer_lock=lock, max_article_chars=settings.max_article_chars,
                   copies=CopyIndex.in_dir(settings.data_dir) if settings.fold_copies else None)
        if settings.llm_provider != "none":
            # Optional LLM answers (retrieval/llm_composer.py): they wrap the offline
            # composer, which stays the fallback. Imported here: without an LLM, never loaded.
            from .llm_composer import LLMComposer

            desk.composer = LLMComposer.from_settings(settings, desk.composer)
        return desk

    # -- the lexical index, kept in step with the store ------------------------------------
    @property
    def _lexical_dir(self) -> Path:
        return self.data_dir / "bm25" / self.store.collection_name

    def idf(self, term: str) -> float:
        return self.lexical_index().idf(term)

    def lexical_index(self) -> LexicalIndex:
        """The BM25 copy. When another process has changed the store since it was loaded, a
        fresh copy is built in the background; searches use the current one meanwhile."""
        with self._lexical_lock:
            if self._lexical is None:
                self._lexical_generation = self.store.generation()
                self._lexical = self._load_or_build_lexical(self._lexical_generation)
                self._lexical_checked = time.monotonic()
                return self._lexical
            current, seen = self._lexical, self._lexical_generation
            if (self._lexical_rebuild is not None or self._index_lock.locked()  # our own run swaps at its end
                    or time.monotonic() - self._lexical_checked < self.lexical_check_seconds):
                return current
            self._lexical_checked = time.monotonic()  # this caller checks; the others go on meanwhile
        generation = self.store.generation()
        if generation != seen:
            with self._lexical_lock:
                if self._lexical_rebuild is None:
                    self._lexical_rebuild = threading.Thread(target=self._rebuild_lexical, args=(generation,),
                                                             name="newsdesk-bm25", daemon=True)
                    self._lexical_rebuild.start()
        return current

    def _rebuild_lexical(self, generation: str) -> None:
        try:
            fresh = self._load_or_build_lexical(generation)
        except Exception:  # noqa: BLE001 - a background thread: log it, keep the current copy, retry later
            log.exception("could not rebuild the BM25 index; searches keep the current copy")
            with self._lexical_lock:
                self._lexical_rebuild = None
            return
        self._swap_lexical(fresh, generation)

    def wait_for_lexical(self, timeout: float | None = None) -> None:
        """Wait for a background BM25 rebuild, if one is running (tests, orderly shutdown)."""
        thread = self._lexical_rebuild
        if thread is not None:
            thread.join(timeout)

    def _swap_lexical(self, fresh: LexicalIndex, generation: str) -> None:
        with self._lexical_lock:
            # Swapped whole: searches never see a half-built index.
            self._lexical, self._lexical_generation, self._lexical_checked = fresh, generation, time.monotonic()
            self._lexical_rebuild = None

    def _load_or_build_lexical(self, generation: str, *, writer: bool = False) -> LexicalIndex:
        """The BM25 copy of the store's content at `generation` (read before the content): the
        saved one when it was built at that generation (lexical_store.py), else one built
        from a paged read of the store and saved for the next process. A writer (holding the
        writer lock) always saves; a reader only when no other process is saving."""
        files = LexicalFiles(self._lexical_dir)
        saved = files.load(generation)
        if saved is not None:
            return saved
        rows = ((c.id, f"{c.metadata.get('title', '')}\n{c.text}", int(c.metadata.get("date_num", 0)))
                for c in self.store.iter_chunks())
        index = LexicalIndex.from_rows(rows, generation)
        if generation:
            files.save(index, wait=writer, still_current=lambda: self.store.generation() == generation)
        return index

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
            with self.writer_lock.hold(wait=wait, on_wait=on_wait):
                indexer = Indexer(self.store, self.chunker, self.embeddings,
                                  max_article_chars=self.max_article_chars, on_write=on_write)
                read: list[Article] = []
                report = run(indexer, self._observed(items, read))
                self._find_copies(read, report)
                if report.changed or report.repaired or self._lexical is None:
                    # The run ended with a new generation if it changed anything (Indexer._finish),
                    # which tells other processes that their BM25 copies are stale.
                    generation = self.store.generation()
                    self._swap_lexical(self._load_or_build_lexical(generation, writer=True), generation)
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
            with self.writer_lock.hold(wait=wait, on_wait=on_wait):
                self.store.check_model()
                report = Indexer(self.store, self.chunker, self.embeddings).repair()
                if report.repaired or report.broken:
                    generation = self.store.mark_changed()
                    self._swap_lexical(self._load_or_build_lexical(generation, writer=True), generation)
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
        reference = as_of or date_from_number(self.lexical_index().newest())
        if reference is None:
            return TimeHints()
        said = read_dates(question, reference)
        return TimeHints(reference=reference, window=said.window, present=said.present)

    def ask(self, question: str, *, k: int = ASK_PASSAGES, as_of: dt.date | None = None,
            history: list[str] | None = None, on_text: Callable[[str], None] | None = None) -> Answer:
        """A cited answer; `history` holds a thread's earlier questions, used for retrieval.
        With an LLM, `on_text(verified text so far)` is called as its answer streams."""
        question = check_question(question)
        # Retrieval reads a follow-up with the thread's last two questions; only the new
        # question is checked for length, so a long thread never makes a follow-up "too long".
        context = " ".join([*(history or [])[-2:], question])
        hints = self.time_hints(context, as_of)
        passages = self._search(context, k=k, as_of=as_of, hints=hints)
        answer = self.composer.compose(question, passages, query=context, as_of=as_of,
                                       recent_since=hints.recent_since(), on_text=on_text)
        return self._with_copies(answer)

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
        return self._with_llm(summaries.summarize_article(doc, chunks), lambda: article_passages(chunks))

    def summarize_topic(self, topic: str, *, as_of: dt.date | None = None) -> Summary:
        topic = check_question(topic)
        passages = self._search(topic, k=8, as_of=as_of)
        summary = summaries.summarize_topic(topic, passages, self.embeddings, self.composer.options, self.idf)
        return self._with_llm(summary, lambda: passages)

    def summarize_dates(self, since: dt.date, until: dt.date | None = None) -> Summary:
        until = until or dt.date.today()
        if until < since:
            raise DateError(f"the period ends ({until}) before it starts ({since})")
        in_period = {"$and": [{"date_num": {"$gte": date_number(since)}}, {"date_num": {"$lte": date_number(until)}}]}
        docs = list(self.store.articles(in_period).values())
        summary = summaries.summarize_period(since, until, docs, self.store.chunks_of)
        return self._with_llm(summary, lambda: period_passages(docs, self.store.chunks_of))

    def _with_llm(self, summary: Summary, passages: Callable[[], list[Passage]]) -> Summary:
        """The LLM's verified summary of the same material, when an LLM is configured."""
        if isinstance(self.composer, Composer) or not summary.citations:
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
