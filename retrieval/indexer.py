"""Incremental indexing: embed only what is new or changed, and say what happened.

Each article's content hash is stored with its chunks. A run compares what it reads with
what the store holds: unchanged articles are skipped, changed ones are re-embedded and their
old chunks removed (even when the new version has fewer), and with `prune` articles whose
files are gone are deleted. Bad files are reported and never cost an indexed article.

Whatever moment a run dies, no reader sees half an article (see store.py): new chunks are
written under the article's new version, then its record is switched in one write, then the
old chunks are deleted. A run begins by discarding what an interrupted one left invisible.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

from langchain_core.embeddings import Embeddings

from .chunking import Chunker
from .errors import ArticleError
from .ingest import iter_articles
from .models import Article, CheckReport, Chunk, IndexReport
from .store import TOMBSTONE, ChunkStore, Inventory, StoredArticle, date_number

Progress = Callable[[int, int], None]
# Called after each write to the store with what was written ("chunks", "commit", "delete",
# "records"): the fault-injection tests stop a real process at a chosen write with it.
WriteHook = Callable[[str], None]
MAX_ARTICLE_CHARS = 1_000_000  # ~1,400 chunks, ~2 minutes of embedding: larger is likely a mistake

# Bump when what is embedded or stored per chunk changes (match_text, metadata keys), so
# caches keyed on it (the quality benchmark's) are rebuilt rather than trusted.
INDEX_VERSION = 1
# Article metadata beyond the fixed fields that is stored with each chunk when present
# (a feed entry's author, the feed it came from); not part of the content hash.
STORED_EXTRA = ("author", "feed")


def article_hash(article: Article) -> str:
    fields = [article.text, article.title, article.source, str(article.date or ""), article.url]
    return hashlib.sha256(json.dumps(fields).encode()).hexdigest()[:32]


def match_text(article: Article, chunk: Chunk) -> str:
    """What a chunk's vector is computed from: its article's title, then the chunk itself."""
    return f"{article.title}\n{chunk.text}" if article.title else chunk.text


def origin_file(origin: str) -> str:
    """The file part of an origin ("feed.jsonl:12" -> "feed.jsonl")."""
    head, sep, tail = origin.rpartition(":")
    return head if sep and tail.isdigit() else origin


@dataclass
class _Planned:
    article: Article
    digest: str
    old: StoredArticle | None
    chunks: list[Chunk]
    ids: list[str]  # the ids its chunks are stored under
    left: int = 0  # chunks not yet written


class Indexer:
    def __init__(self, store: ChunkStore, chunker: Chunker, embeddings: Embeddings, batch_size: int = 64,
                 max_article_chars: int = MAX_ARTICLE_CHARS, on_write: WriteHook | None = None):
        self.store = store
        self.chunker = chunker
        self.embeddings = embeddings
        self.batch_size = batch_size
        self.max_article_chars = max_article_chars
        self.on_write = on_write

    def _wrote(self, what: str) -> None:
        if self.on_write:
            self.on_write(what)

    def repair(self, inventory: Inventory | None = None) -> CheckReport:
        """Discard what interrupted runs left: chunks of versions never committed (or replaced
        and not yet deleted), unfinished deletions, and committed articles missing chunks (only
        possible if something else deleted them: they are removed so a re-index adds them
        whole). Only a writer holding the writer lock may call it."""
        inventory = inventory or self.store.scan()
        tombstones = sorted(d for d, r in inventory.records.items() if r.get("version") == TOMBSTONE)
        report = CheckReport(
            articles=len(inventory.articles),
            chunks=sum(len(d.chunk_ids) for d in inventory.articles.values()),
            discarded={d: len(ids) for d, ids in inventory.stray.items()
                       if d not in inventory.short and d not in tombstones},
            broken=sorted(inventory.short),
            mixed=sorted(inventory.mixed),
            tombstones=len(tombstones),
        )
        doomed = sorted(cid for ids in inventory.stray.values() for cid in ids)
        if doomed:
            self.store.delete(doomed)
            self._wrote("delete")
        # Records go after their chunks: a tombstone dropped first would show the chunks again.
        dropped = sorted(set(tombstones) | set(inventory.short))
        if dropped:
            self.store.drop_records(dropped)
            self._wrote("records")
        return report

    def run(self, paths: list[Path], *, prune: bool = False, progress: Progress | None = None) -> IndexReport:
        return self.run_items(iter_articles(paths), prune=prune, progress=progress)

    def run_items(self, items: Iterable[Article | ArticleError], *, prune: bool = False,
                  progress: Progress | None = None) -> IndexReport:
        """Index articles read elsewhere (a feed's entries), or the errors that stopped them;
        `prune` only makes sense for articles read from files (see `run`)."""
        self.store.check_model()
        report = IndexReport()
        # After a run that ended cleanly, with nothing written since, there is nothing to
        # repair and each article's record tells whether it changed: no scan of every chunk's
        # metadata, whose cost grows with the archive (11 s at 100k chunks). Pruning needs
        # every stored article's origin, so it scans.
        inventory = None if not prune and self.store.is_clean() else self.store.scan()
        if inventory is not None:
            repaired = self.repair(inventory)
            report.repaired = repaired.repaired + len(repaired.broken)
        candidates: list[tuple[Article, str]] = []
        seen_ids: dict[str, str] = {}
        seen_hashes: dict[str, str] = {}
        files_read: set[str] = set()
        files_failed: set[str] = set()

        for item in items:
            if isinstance(item, ArticleError):
                report.failures.append((f"{item.origin}:{item.line}" if item.line else item.origin, item.reason))
                files_failed.add(item.origin)
                continue
            files_read.add(origin_file(item.origin))
            if item.id in seen_ids:
                report.failures.append((item.origin, f"duplicate article id {item.id!r} (first in {seen_ids[item.id]})"))
                continue
            if len(item.text) > self.max_article_chars:
                report.failures.append((item.origin, f"article is {len(item.text):,} characters long, over the limit "
                                                     f"of {self.max_article_chars:,} (MAX_ARTICLE_CHARS); skipped"))
                seen_ids[item.id] = item.origin  # a version indexed before stays, even with --prune
                continue
            digest = article_hash(item)
            if digest in seen_hashes:
                report.failures.append((item.origin, f"duplicate of the article in {seen_hashes[digest]}"))
                continue
            seen_ids[item.id] = seen_hashes[digest] = item.origin
            candidates.append((item, digest))

        if inventory is not None:
            stored = inventory.articles
        else:
            stored = self.store.recorded_articles(article.id for article, _ in candidates)
        pending: list[tuple[Article, str, StoredArticle | None]] = []
        for item, digest in candidates:
            old = stored.get(item.id)
            if old is not None and old.doc_hash == digest:
                report.unchanged += 1
            else:
                pending.append((item, digest, old))
        if inventory is None:  # the chunks an update replaces, when an older record does not list them
            chunk_ids = self.store.chunk_ids_of(old.doc_id for _, _, old in pending if old is not None and not old.chunk_ids)
            for _, _, old in pending:
                if old is not None and not old.chunk_ids:
                    old.chunk_ids = chunk_ids.get(old.doc_id, [])

        self._write(pending, report, progress)

        if prune:
            doomed = []
            for doc in stored.values():
                if doc.doc_id in seen_ids or "://" in doc.origin:
                    continue  # read this run, or read from a feed (retrieval/feeds.py): never a file's
                source_file = origin_file(doc.origin)
                if source_file in files_failed:
                    continue  # its file is broken this run: keep what we have rather than guess
                if source_file in files_read or not Path(source_file).exists():
                    doomed.append(doc)
            self._delete(doomed)
            report.deleted += len(doomed)
        self._finish(inventory, report)
        return report

    def _finish(self, inventory: Inventory | None, report: IndexReport) -> None:
        """End the run with a new generation if it changed anything (processes that read
        mid-run rebuild their BM25 copies again), and mark the store clean when it is: every
        article recorded (articles from before records existed keep a store unclean until
        rewritten), nothing left over (this run discarded what it found)."""
        recorded = inventory is None or all(doc_id in inventory.records for doc_id in inventory.articles)
        if report.changed or report.repaired:
            self.store.mark_changed(clean=recorded)
        elif recorded:
            self.store.mark_clean()

    def _delete(self, doomed: list[StoredArticle]) -> None:
        """Hide the articles in one write (a tombstone record each), then delete them."""
        if not doomed:
            return
        self.store.commit({d.doc_id: {"version": TOMBSTONE, "doc_hash": "", "chunks": 0} for d in doomed})
        self._wrote("commit")
        self.store.delete(sorted(cid for d in doomed for cid in d.chunk_ids))
        self._wrote("delete")
        self.store.drop_records(sorted(d.doc_id for d in doomed))
        self._wrote("records")

    def _write(self, pending: list[tuple[Article, str, StoredArticle | None]], report: IndexReport,
               progress: Progress | None) -> None:
        planned = []
        for article, digest, old in pending:
            chunks = self.chunker.split(article)
            # A new version never reuses the ids of the committed one: both live until the switch.
            suffix = "" if old is None else f"@{digest[:12]}"
            planned.append(_Planned(article, digest, old, chunks, [c.id + suffix for c in chunks], len(chunks)))
        rows = [(plan, chunk, chunk_id) for plan in planned for chunk, chunk_id in zip(plan.chunks, plan.ids)]
        total = len(rows)
        if progress:
            progress(0, total)
        for begin in range(0, total, self.batch_size):
            batch = rows[begin:begin + self.batch_size]
            self._embed_and_store(batch)
            self._wrote("chunks")
            report.chunks_embedded += len(batch)
            finished = []
            for plan, _chunk, _id in batch:
                plan.left -= 1
                if plan.left == 0:
                    finished.append(plan)
            self._commit(finished, report)
            if progress:
                progress(begin + len(batch), total)

    def _commit(self, finished: list[_Planned], report: IndexReport) -> None:
        """Make wholly written articles visible, then remove their old versions' chunks."""
        if not finished:
            return
        self.store.commit({p.article.id: self._record(p) for p in finished})
        self._wrote("commit")
        stale = sorted(cid for p in finished if p.old for cid in p.old.chunk_ids)
        if stale:
            self.store.delete(stale)
            self._wrote("delete")
        for plan in finished:
            if plan.old is None:
                report.added += 1
            else:
                report.updated += 1

    @staticmethod
    def _record(plan: _Planned) -> dict:
        """An article's record: its committed version, and what lists it (store.LISTED)."""
        article = plan.article
        return {"version": plan.digest, "doc_hash": plan.digest, "chunks": len(plan.chunks),
                "suffix": plan.ids[0][len(plan.chunks[0].id):] if plan.chunks else "", "origin": article.origin,
                "title": article.title, "source": article.source,
                "date": article.date.isoformat() if article.date else "", "url": article.url}

    def _embed_and_store(self, batch: list[tuple[_Planned, Chunk, str]]) -> None:
        vectors = self.embeddings.embed_documents([match_text(p.article, c) for p, c, _ in batch])
        metadatas = [
            {
                "doc_id": p.article.id,
                "doc_hash": p.digest,
                "version": p.digest,
                "origin": p.article.origin,
                "title": p.article.title,
                "source": p.article.source,
                "date": p.article.date.isoformat() if p.article.date else "",
                "date_num": date_number(p.article.date),
                "url": p.article.url,
                "start": c.start,
                "end": c.end,
                **{k: str(p.article.extra[k]) for k in STORED_EXTRA if p.article.extra.get(k)},
            }
            for p, c, _ in batch
        ]
        self.store.add([chunk_id for *_, chunk_id in batch], [c.text for _, c, _ in batch], vectors, metadatas)
