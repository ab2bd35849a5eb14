"""The value objects that flow between ingest, the store, search and answers."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field


@dataclass(frozen=True)
class Article:
    """One news article as read from a file. `text` is exactly what gets chunked and quoted."""

    id: str
    text: str
    title: str = ""
    source: str = ""
    date: dt.date | None = None
    url: str = ""
    origin: str = ""  # the file it came from (with ":line" for JSON Lines), for reports and --prune
    extra: dict = field(default_factory=dict)


@dataclass(frozen=True)
class Chunk:
    """A span of an article: `article.text[start:end] == text` always holds."""

    id: str
    doc_id: str
    text: str
    start: int
    end: int


@dataclass(frozen=True)
class Passage:
    """A retrieved chunk with what a reader needs to cite it."""

    chunk_id: str
    doc_id: str
    text: str
    score: float
    title: str = ""
    source: str = ""
    date: str = ""  # ISO date or ""
    url: str = ""
    start: int = 0
    end: int = 0
    dense_similarity: float | None = None  # cosine similarity to the query, when it was computed
    # False for a passage the search did not find, read because it is the rest of an article
    # it did find (`Composer`'s `article_passages`).
    retrieved: bool = True

    def to_dict(self) -> dict:
        return asdict(self)


QUOTE_SEPARATOR = " … "


@dataclass(frozen=True)
class Citation:
    """A numbered source of an answer; `quote` is verbatim article text."""

    n: int
    doc_id: str
    title: str
    source: str
    date: str
    url: str
    quote: str  # the quoted sentences of this article, joined by QUOTE_SEPARATOR
    also_in: tuple[str, ...] = ()  # the sources of its syndicated copies (retrieval/dedup.py)

    @classmethod
    def of(cls, n: int, passage: Passage, quotes: Sequence[str]) -> Citation:
        """Source number `n`: the article of `passage`, quoting `quotes` from it."""
        return cls(n=n, doc_id=passage.doc_id, title=passage.title, source=passage.source, date=passage.date,
                   url=passage.url, quote=QUOTE_SEPARATOR.join(quotes))

    def quotes(self) -> list[str]:
        return self.quote.split(QUOTE_SEPARATOR)

    def to_dict(self) -> dict:
        data = asdict(self)
        data["also_in"] = list(self.also_in)
        if not self.also_in:
            del data["also_in"]  # the JSON contract gains the key only when there are copies
        return data


# How a front end heads a refusal's closest articles (Answer.related): the title, then why.
RELATED_TITLE = "Closest articles"
RELATED_CAVEAT = "they may not say it plainly"


@dataclass(frozen=True)
class Answer:
    question: str
    text: str
    abstained: bool
    citations: list[Citation]
    passages: list[Passage]
    note: str = ""  # e.g. why an LLM answer fell back to quotes
    # How well the best quoted sentence answers the question: the offline composer's
    # sentence score (retrieval/answers.py), the second abstention signal. None when no
    # sentence was scored (an LLM answer, or nothing close enough to the question).
    evidence: float | None = None
    abstained_because: str = ""  # why there is no answer: one of retrieval.answers' ABSTAIN_* reasons
    # The best cosine similarity of a retrieved passage, or of one of its best sentences, to
    # the question: the offline composer's first abstention signal. None when not computed.
    similarity: float | None = None
    # A refusal's closest articles (the archive covers the topic, no sentence states the
    # answer): for the reader to check; never evidence, so never cited in `text`.
    related: list[Citation] = field(default_factory=list)

    def to_dict(self) -> dict:
        result = {
            "question": self.question,
            "answer": self.text,
            "abstained": self.abstained,
            "citations": [c.to_dict() for c in self.citations],
            "passages": [
                {"doc_id": p.doc_id, "chunk_id": p.chunk_id, "score": p.score, "text": p.text}
                for p in self.passages
            ],
        }
        if self.note:
            result["note"] = self.note
        if self.abstained_because:
            result["abstained_because"] = self.abstained_because
        if self.related:
            result["related"] = [c.to_dict() for c in self.related]
        return result


@dataclass(frozen=True)
class Summary:
    """An extractive summary: `text` carries [n] markers resolving to `citations`."""

    kind: str  # "article" | "topic" | "dates"
    subject: str
    text: str
    citations: list[Citation]
    points: list[str] = field(default_factory=list)

    def to_dict(self) -> dict:
        return {
            "kind": self.kind,
            "subject": self.subject,
            "summary": self.text,
            "points": self.points,
            "citations": [c.to_dict() for c in self.citations],
        }


@dataclass(frozen=True)
class SourceInfo:
    """One indexed article, as listed by `newsdesk sources`."""

    doc_id: str
    title: str
    source: str
    date: str
    url: str
    chunks: int

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass
class IndexReport:
    """What one indexing run did. `failures` are (where, reason) pairs."""

    added: int = 0
    updated: int = 0
    unchanged: int = 0
    deleted: int = 0
    failures: list[tuple[str, str]] = field(default_factory=list)
    chunks_embedded: int = 0
    repaired: int = 0  # articles left half-written by an interrupted run, finished or discarded

    @property
    def failed(self) -> int:
        return len(self.failures)

    @property
    def changed(self) -> bool:
        return bool(self.added or self.updated or self.deleted)

    def to_dict(self) -> dict:
        return {
            "added": self.added,
            "updated": self.updated,
            "unchanged": self.unchanged,
            "deleted": self.deleted,
            "failed": self.failed,
            "failures": [{"where": w, "reason": r} for w, r in self.failures],
            "chunks_embedded": self.chunks_embedded,
            **({"repaired": self.repaired} if self.repaired else {}),
        }


@dataclass
class CheckReport:
    """What `newsdesk check` found in the store, and repaired."""

    articles: int = 0  # committed articles
    chunks: int = 0  # their chunks
    discarded: dict[str, int] = field(default_factory=dict)  # article -> invisible chunks deleted
    broken: list[str] = field(default_factory=list)  # committed articles missing chunks: removed, re-index them
    mixed: list[str] = field(default_factory=list)  # pre-version articles with old and new chunks: re-index them
    tombstones: int = 0  # deletions that had not finished

    @property
    def repaired(self) -> int:
        return len(self.discarded) + self.tombstones

    def to_dict(self) -> dict:
        return {"articles": self.articles, "chunks": self.chunks, "discarded_chunks": sum(self.discarded.values()),
                "discarded_articles": sorted(self.discarded), "broken": self.broken, "mixed": self.mixed,
                "tombstones": self.tombstones}
