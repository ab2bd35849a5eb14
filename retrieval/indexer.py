"""Incremental indexing: embed only what is new or changed, and say what happened.

Each article's content hash is stored with its chunks. A run compares what it reads with
what the store holds: unchanged articles are skipped, changed ones are re-embedded and their
old chunks removed (even when the new version has fewer), and with `prune` articles whose
files are gone are deleted. Bad files are reported and never cost an indexed article.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from pathlib import Path

from langchain_core.embeddings import Embeddings

from .chunking import Chunker
from .errors import ArticleError
from .ingest import iter_articles
from .models import Article, Chunk, IndexReport
from .store import ChunkStore, StoredArticle, date_number

Progress = Callable[[int, int], None]

# Bump when what is embedded or stored per chunk changes (match_text, metadata keys), so
# caches keyed on it (the quality benchmark's) are rebuilt rather than trusted.
INDEX_VERSION = 1


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


class Indexer:
    def __init__(self, store: ChunkStore, chunker: Chunker, embeddings: Embeddings, batch_size: int = 64):
        self.store = store
        self.chunker = chunker
        self.embeddings = embeddings
        self.batch_size = batch_size

    def run(self, paths: list[Path], *, prune: bool = False, progress: Progress | None = None) -> IndexReport:
        self.store.check_model()
        report = IndexReport()
        stored = self.store.articles()
        pending: list[tuple[Article, str, StoredArticle | None]] = []
        seen_ids: dict[str, str] = {}
        seen_hashes: dict[str, str] = {}
        files_read: set[str] = set()
        files_failed: set[str] = set()

        for item in iter_articles(paths):
            if isinstance(item, ArticleError):
                report.failures.append((f"{item.origin}:{item.line}" if item.line else item.origin, item.reason))
                files_failed.add(item.origin)
                continue
            files_read.add(origin_file(item.origin))
            if item.id in seen_ids:
                report.failures.append((item.origin, f"duplicate article id {item.id!r} (first in {seen_ids[item.id]})"))
                continue
            digest = article_hash(item)
            if digest in seen_hashes:
                report.failures.append((item.origin, f"duplicate of the article in {seen_hashes[digest]}"))
                continue
            seen_ids[item.id] = seen_hashes[digest] = item.origin
            old = stored.get(item.id)
            if old is not None and old.doc_hash == digest:
                report.unchanged += 1
            else:
                pending.append((item, digest, old))

        self._write(pending, report, progress)

        if prune:
            for doc in stored.values():
                if doc.doc_id in seen_ids:
                    continue
                source_file = origin_file(doc.origin)
                if source_file in files_failed:
                    continue  # its file is broken this run: keep what we have rather than guess
                if source_file in files_read or not Path(source_file).exists():
                    self.store.delete(doc.chunk_ids)
                    report.deleted += 1
        return report

    def _write(self, pending: list[tuple[Article, str, StoredArticle | None]], report: IndexReport,
               progress: Progress | None) -> None:
        planned = [(article, digest, old, self.chunker.split(article)) for article, digest, old in pending]
        total = sum(len(chunks) for *_, chunks in planned)
        done = 0
        if progress:
            progress(0, total)
        batch: list[tuple[Article, str, Chunk]] = []
        for position, (article, digest, old, chunks) in enumerate(planned):
            batch += [(article, digest, chunk) for chunk in chunks]
            last = position == len(planned) - 1
            if len(batch) < self.batch_size and not last:
                continue
            self._embed_and_store(batch)
            done += len(batch)
            report.chunks_embedded += len(batch)
            batch = []
            if progress:
                progress(done, total)
        # Counts and stale-chunk removal happen after the new chunks are safely stored.
        for article, _digest, old, chunks in planned:
            if old is None:
                report.added += 1
                continue
            report.updated += 1
            stale = sorted(set(old.chunk_ids) - {c.id for c in chunks})
            if stale:
                self.store.delete(stale)

    def _embed_and_store(self, batch: list[tuple[Article, str, Chunk]]) -> None:
        vectors = self.embeddings.embed_documents([match_text(a, c) for a, _, c in batch])
        metadatas = [
            {
                "doc_id": a.id,
                "doc_hash": digest,
                "origin": a.origin,
                "title": a.title,
                "source": a.source,
                "date": a.date.isoformat() if a.date else "",
                "date_num": date_number(a.date),
                "url": a.url,
                "start": c.start,
                "end": c.end,
            }
            for a, digest, c in batch
        ]
        self.store.add([c.id for *_, c in batch], [c.text for *_, c in batch], vectors, metadatas)
