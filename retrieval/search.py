"""Hybrid retrieval: dense (Chroma) and BM25 fused by reciprocal rank, one article at a time.

Dense similarity finds paraphrases, BM25 finds names and rare words; reciprocal-rank fusion
needs no score calibration between the two. Articles dated after the question's as-of date
are never evidence. The returned passages keep each chunk's cosine similarity to the query,
the one score on a fixed scale, which the composer uses to decide whether to abstain.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from langchain_core.embeddings import Embeddings

from .lexical import LexicalIndex
from .models import Passage
from .store import ChunkStore, StoredChunk, date_number

ONE_DAY = dt.timedelta(days=1)


@dataclass(frozen=True)
class SearchOptions:
    pool: int = 50  # candidates taken from each retriever before fusion
    per_article: int = 2  # at most this many chunks of one article in the results
    dense_weight: float = 1.0
    lexical_weight: float = 1.0
    rrf_k: int = 5  # Cormack et al. use 60; smaller trusts the top ranks more (bench/tune.py: 5 > 10 > 20 > 60)
    # News is about time: a newer article gets up to `recency_weight` (in units of a
    # first-place RRF vote) decaying with a half-life of `recency_half_life_days`; when the
    # question implies the present ("the latest", "now") the weight is multiplied by
    # `present_boost`. An article inside a date window the question names gets `window_weight`.
    recency_weight: float = 1.5
    recency_half_life_days: float = 14.0
    present_boost: float = 1.0  # 2.0 cost 0.01-0.02 MRR on the dev set, whose questions all ask about 'this week'
    window_weight: float = 1.0


@dataclass(frozen=True)
class TimeHints:
    """What the question says about time, resolved against its as-of date."""

    reference: dt.date | None = None  # "now" for recency: the as-of date, else the newest article
    window: tuple[dt.date, dt.date] | None = None  # a period the question names
    present: bool = False  # the question asks about the present ("latest", "currently")

    def recent_since(self, grace_days: int = 3) -> dt.date | None:
        """When the question asks about a period that runs up to now ("this week", "this
        month", "since June"), its start less `grace_days`, else None: news older than that
        does not answer it. The grace keeps a story reported just before the period began
        (RealTimeQA's "this week" articles are up to 7 days old, a few older); a period in the
        past ("on Jan. 6, 2021") is left alone, because later articles often tell of it."""
        if self.window is None or self.reference is None or self.window[1] < self.reference - ONE_DAY:
            return None
        return self.window[0] - dt.timedelta(days=grace_days)


def passage_from(chunk: StoredChunk, score: float, similarity: float | None, retrieved: bool = True) -> Passage:
    meta = chunk.metadata
    return Passage(
        chunk_id=chunk.id,
        doc_id=meta["doc_id"],
        text=chunk.text,
        score=score,
        title=meta.get("title", ""),
        source=meta.get("source", ""),
        date=meta.get("date", ""),
        url=meta.get("url", ""),
        start=int(meta.get("start", 0)),
        end=int(meta.get("end", 0)),
        dense_similarity=similarity,
        retrieved=retrieved,
    )


def article_reader(store: ChunkStore) -> Callable[[str], list[Passage]]:
    """An article's passages, all of them, read from `store` and marked as not found by a
    search (the composer reads the best article whole: `Composer.article_passages`)."""
    return lambda doc_id: [passage_from(chunk, 0.0, None, retrieved=False) for chunk in store.chunks_of(doc_id)]


class Searcher:
    def __init__(self, store: ChunkStore, embeddings: Embeddings, lexical: Callable[[], LexicalIndex],
                 options: SearchOptions | None = None):
        self.store = store
        self.embeddings = embeddings
        self._lexical = lexical  # a callable: the index is swapped after each re-index
        self.options = options or SearchOptions()

    def search(self, query: str, *, k: int = 10, as_of: dt.date | None = None,
               hints: TimeHints | None = None) -> list[Passage]:
        opts = self.options
        hints = hints or TimeHints()
        until = date_number(as_of) if as_of else None
        query_vector = self.embeddings.embed_query(query)
        dense = self._dense(query_vector, until)
        lexical = self._lexical().search(query, opts.pool, until=until)

        fused: dict[str, float] = {}
        for rank, (chunk, _) in enumerate(dense):
            fused[chunk.id] = fused.get(chunk.id, 0.0) + opts.dense_weight / (opts.rrf_k + rank + 1)
        for rank, (chunk_id, _) in enumerate(lexical):
            fused[chunk_id] = fused.get(chunk_id, 0.0) + opts.lexical_weight / (opts.rrf_k + rank + 1)
        if not fused:
            return []

        chunks = {chunk.id: chunk for chunk, _ in dense}
        similarity = {chunk.id: sim for chunk, sim in dense}
        missing = [cid for cid in fused if cid not in chunks]
        fetched = self.store.get(missing, with_embeddings=True)
        query = np.asarray(query_vector)
        for cid, (chunk, vector) in fetched.items():
            chunks[cid] = chunk
            similarity[cid] = float(np.dot(query, np.asarray(vector)))
        unit = 1.0 / (opts.rrf_k + 1)  # one first-place vote
        for cid in list(fused):
            if cid in chunks:
                fused[cid] += unit * self._time_bonus(chunks[cid].metadata.get("date", ""), hints)
        ranked = sorted(fused, key=lambda cid: (-fused[cid], cid))
        per_article: dict[str, int] = {}
        chosen: list[str] = []
        for cid in ranked:
            if cid not in chunks:
                continue  # deleted between the two look-ups
            doc_id = chunks[cid].metadata["doc_id"]
            if per_article.get(doc_id, 0) >= opts.per_article:
                continue
            per_article[doc_id] = per_article.get(doc_id, 0) + 1
            chosen.append(cid)
            if len(chosen) == k:
                break
        return [passage_from(chunks[cid], fused[cid], similarity[cid]) for cid in chosen]

    def _dense(self, query_vector: list[float], until: int | None) -> list[tuple[StoredChunk, float]]:
        """The pool of nearest chunks dated on or before `until`.

        A filtered Chroma query is ~8x slower than a plain one at 47k chunks (it scans the
        metadata), so over-fetch unfiltered and filter here; only when too few survive (an
        as-of date deep in the archive's past) ask Chroma to filter. A question as of today
        (every question asked in Discord) finds no article dated after it, so it fetches no
        more than it keeps: most of a query's time is reading its chunks' text and metadata
        (bench/RESULTS.md, "The question embedded once"). The BM25 copy tells the newest date;
        when it lags behind the store, a newer chunk is still filtered out here.
        """
        pool = self.options.pool
        if until is None:
            return self.store.dense_search(query_vector, k=pool)
        fetched = pool if until >= self._lexical().newest() else pool * 3
        nearest = self.store.dense_search(query_vector, k=fetched)
        kept = [(c, sim) for c, sim in nearest if int(c.metadata.get("date_num", 0)) <= until]
        if len(kept) >= pool or len(nearest) < fetched:
            return kept[:pool]
        return self.store.dense_search(query_vector, k=pool, where={"date_num": {"$lte": until}})

    def _time_bonus(self, date_text: str, hints: TimeHints) -> float:
        """Extra votes for an article's date: recency, and falling inside a named window."""
        if not date_text:
            return 0.0
        opts = self.options
        date = dt.date.fromisoformat(date_text)
        bonus = 0.0
        if hints.reference and opts.recency_weight:
            age = max((hints.reference - date).days, 0)
            weight = opts.recency_weight * (opts.present_boost if hints.present else 1.0)
            bonus += weight * 0.5 ** (age / opts.recency_half_life_days)
        # News of an event is often dated the day after it: the window's end is padded a day.
        if hints.window and opts.window_weight and hints.window[0] <= date <= hints.window[1] + ONE_DAY:
            bonus += opts.window_weight
        return bonus
