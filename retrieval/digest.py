"""Digests: what is new in the archive since a moment, as stories with quoted leads.

Articles dated on or after the start (optionally only those on a topic) are grouped into
stories (articles whose first chunks' vectors are close, or that are copies of one another),
newest story first. Each story quotes the first one or two sentences of its lead article
verbatim and cites it; the story's other articles are named as "also in". Nothing here
knows of Discord or schedules; see retrieval/schedules.py and bot/digest.py.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np

from .models import Citation
from .sentences import sentence_spans
from .store import StoredArticle, date_number

if TYPE_CHECKING:
    from .service import Newsdesk

SAME_STORY = 0.8  # cosine of two articles' first chunks above which they tell one story
LEAD_CHARS = 320  # a second lead sentence is quoted only while the quote stays under this


@dataclass(frozen=True)
class Story:
    """One story: its lead article (cited, with its quoted lead) and the others that tell it."""

    citation: Citation
    also_in: list[Citation] = field(default_factory=list)

    def to_dict(self) -> dict:
        return {**self.citation.to_dict(), "also_in": [c.to_dict() for c in self.also_in]}


@dataclass(frozen=True)
class Digest:
    since: dt.date
    until: dt.date | None
    topic: str | None
    stories: list[Story]

    @property
    def doc_ids(self) -> list[str]:
        return [c.doc_id for s in self.stories for c in (s.citation, *s.also_in)]

    def to_dict(self) -> dict:
        return {"since": self.since.isoformat(), "until": self.until.isoformat() if self.until else None,
                "topic": self.topic, "stories": [s.to_dict() for s in self.stories]}


def lead(text: str, limit: int = LEAD_CHARS) -> str:
    """The first sentence of `text`, and the second while both stay under `limit` characters."""
    spans = sentence_spans(text)
    if not spans:
        return ""
    start, end = spans[0]
    if len(spans) > 1 and spans[1][1] - start <= limit:
        end = spans[1][1]
    return text[start:end]


def _key(doc: StoredArticle) -> tuple[str, str]:
    return (doc.date or "", doc.doc_id)


def group_stories(docs: list[StoredArticle], vectors: dict[str, list[float]], copies: dict[str, str] | None = None,
                  threshold: float = SAME_STORY) -> list[list[StoredArticle]]:
    """Articles grouped into stories, newest story first; in each story, newest article first.
    An article joins the first story one of whose articles is close to it (or is the original
    it copies, or a copy of it)."""
    copies = copies or {}
    stories: list[list[StoredArticle]] = []
    members: list[list[np.ndarray]] = []
    for doc in sorted(docs, key=_key, reverse=True):
        vector = np.asarray(vectors[doc.doc_id]) if doc.doc_id in vectors else None
        origin = copies.get(doc.doc_id, doc.doc_id)
        chosen = None
        for i, story in enumerate(stories):
            if any(copies.get(d.doc_id, d.doc_id) == origin for d in story):
                chosen = i
                break
            if vector is not None and any(float(np.dot(vector, v)) >= threshold for v in members[i]):
                chosen = i
                break
        if chosen is None:
            stories.append([doc])
            members.append([vector] if vector is not None else [])
        else:
            stories[chosen].append(doc)
            if vector is not None:
                members[chosen].append(vector)
    return stories


def make_digest(desk: Newsdesk, since: dt.date, until: dt.date | None = None, *, topic: str | None = None,
                exclude: set[str] | None = None, max_stories: int = 15) -> Digest:
    """The digest of the articles dated from `since` to `until` (inclusive), those already in
    `exclude` (posted in an earlier digest) left out; with `topic`, only articles on it."""
    store = desk.store
    where: dict = {"date_num": {"$gte": date_number(since)}}
    if until is not None:
        where = {"$and": [where, {"date_num": {"$lte": date_number(until)}}]}
    docs = {d.doc_id: d for d in store.articles(where).values() if d.doc_id not in (exclude or set())}
    if topic:
        hits = desk.search(topic, k=50, as_of=until)
        on_topic = {p.doc_id for p in hits if (p.dense_similarity or 0.0) >= 0.3}
        docs = {k: v for k, v in docs.items() if k in on_topic}
    first_chunks = {}
    for doc in docs.values():
        chunks = store.chunks_of(doc.doc_id)
        if chunks:
            first_chunks[doc.doc_id] = chunks[0]
    got = store.get([c.id for c in first_chunks.values()], with_embeddings=True)
    vectors = {chunk.metadata["doc_id"]: vector for chunk, vector in got.values() if vector is not None}
    copies = desk.copies()
    stories = []
    for group in group_stories([d for d in docs.values() if d.doc_id in first_chunks], vectors, copies):
        # The story's lead is its earliest article (the original of a wire story), cited first.
        ordered = sorted(group, key=_key)
        cited = []
        for n, doc in enumerate(ordered):
            quote = lead(first_chunks[doc.doc_id].text) if n == 0 else ""
            cited.append(Citation(n=0, doc_id=doc.doc_id, title=doc.title, source=doc.source, date=doc.date,
                                  url=doc.url, quote=quote))
        stories.append(Story(cited[0], cited[1:]))
        if len(stories) == max_stories:
            break
    numbered = [Story(_numbered(s.citation, n), s.also_in) for n, s in enumerate(stories, start=1)]
    return Digest(since, until, topic, numbered)


def _numbered(c: Citation, n: int) -> Citation:
    return Citation(n=n, doc_id=c.doc_id, title=c.title, source=c.source, date=c.date, url=c.url, quote=c.quote)
