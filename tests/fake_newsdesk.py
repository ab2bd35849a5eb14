"""A small, deterministic stand-in for `retrieval.service.Newsdesk`.

It speaks the same protocol (retrieval.app.Desk; test_bot_units checks the signatures) with
explainable behaviour: an article matches a question when it
contains one of the question's words of four letters or more (or of the thread's earlier
questions); the answer is every sentence holding such a word, each cited. Calls are
recorded (the as-of dates apart, in `dates`), and `index` can be held at a gate to test what
happens while it runs. With `streams`, `ask` streams like an LLM composer: `on_text` gets the
answer's sentences so far, one more each time, the last one only with the final answer.
"""

from __future__ import annotations

import datetime as dt
import re
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from retrieval.answers import ABSTAIN_OFF_TOPIC
from retrieval.config import ASK_PASSAGES
from retrieval.errors import NotFoundError, QuestionError
from retrieval.models import Answer, Citation, IndexReport, Passage, SourceInfo, Summary

MAX_QUESTION = 500
ABSTAIN = "I could not find this in the news archive."


@dataclass(frozen=True)
class FakeArticle:
    doc_id: str
    title: str
    source: str
    date: str
    url: str
    text: str

    def sentences(self) -> list[str]:
        return [s.strip() for s in re.split(r"(?<=[.!?])\s+", self.text) if s.strip()]


ARTICLES = [
    FakeArticle(
        "border-1", "Border crossings close as migrants arrive", "USA TODAY", "2023-12-21",
        "https://example.com/border",
        "CBP closed rail crossings in Eagle Pass and El Paso. Crossings at San Ysidro and Lukeville also closed. "
        "The Lukeville crossing reopened first, on January 4.",
    ),
    FakeArticle(
        "council-1", "Council *votes* on the @everyone budget", "Gazette", "2023-11-02",
        "https://example.com/council_(budget)",
        "@everyone the council approved the **budget** <@123456789012345678> and <@&987654321098765432> cheered. "
        "The council's `code` of __conduct__ was ~~struck~~ as ||secret||. "
        "[Council minutes](https://evil.example) are online.",
    ),
    FakeArticle(
        "election-1", "A very long election story", "Herald", "2023-10-01",
        "https://example.com/election",
        " ".join(f"Election sentence number {i} reports turnout in district {i}." for i in range(120)),
    ),
]


@dataclass
class FakeNewsdesk:
    articles: list[FakeArticle] = field(default_factory=lambda: list(ARTICLES))
    calls: list[tuple] = field(default_factory=list)
    report: IndexReport = field(default_factory=lambda: IndexReport(added=1, updated=2, unchanged=3, deleted=0,
                                                                      failures=[("seeds/bad.json:3", "no text")]))
    index_gate: threading.Event | None = None  # when set, index() waits for it
    index_started: threading.Event = field(default_factory=threading.Event)
    fail_with: Exception | None = None  # raised by ask()
    index_error: Exception | None = None  # raised by index(), after the gate
    dates: list[tuple[str, str, dt.date | None]] = field(default_factory=list)  # (verb, question, as_of)
    streams: bool = False  # ask() passes its growing text to on_text, as an LLM composer does
    after_text: Callable[[str], None] | None = None  # called after each on_text: a test may wait there

    # -- the Newsdesk interface

    def index(self, paths: list[Path], *, prune: bool = False, progress=None) -> IndexReport:
        self.calls.append(("index", [str(p) for p in paths], prune))
        self.index_started.set()
        if progress:
            progress(0, 2)
        if self.index_gate is not None:
            self.index_gate.wait(timeout=30)
        if self.index_error is not None:
            raise self.index_error
        if progress:
            progress(2, 2)
        return self.report

    def search(self, query: str, *, k: int = 10, as_of: dt.date | None = None) -> list[Passage]:
        self.calls.append(("search", query))
        self.dates.append(("search", query, as_of))
        return [
            Passage(chunk_id=f"{a.doc_id}:0", doc_id=a.doc_id, text=a.text[:200], score=float(n), title=a.title,
                    source=a.source, date=a.date, url=a.url, start=0, end=min(200, len(a.text)))
            for a, n in self._matches(query)[:k]
        ]

    def ask(self, question: str, *, k: int = ASK_PASSAGES, as_of: dt.date | None = None,
            history: list[str] | None = None, on_text: Callable[[str], None] | None = None) -> Answer:
        self.calls.append(("ask", question, list(history) if history else None))
        self.dates.append(("ask", question, as_of))
        if self.fail_with is not None:
            raise self.fail_with
        if not question.strip():
            raise QuestionError("The question is empty.")
        if len(question) > MAX_QUESTION:
            raise QuestionError(f"The question is longer than {MAX_QUESTION} characters.")
        query = " ".join([*(history or []), question])
        matches = self._matches(query)
        if not matches:
            return Answer(question=question, text=ABSTAIN, abstained=True, citations=[], passages=[],
                          abstained_because=ABSTAIN_OFF_TOPIC)
        words = _words(query)
        citations, lines = [], []
        for n, (article, _) in enumerate(matches, start=1):
            citations.append(Citation(n, article.doc_id, article.title, article.source, article.date, article.url,
                                      article.sentences()[0]))
            lines += [f"{s} [{n}]" for s in article.sentences() if words & _words(s)]
        if self.streams and on_text is not None:
            for shown in range(1, len(lines)):
                on_text(" ".join(lines[:shown]))
                if self.after_text is not None:
                    self.after_text(" ".join(lines[:shown]))
        return Answer(question=question, text=" ".join(lines), abstained=False, citations=citations, passages=[])

    def summarize_article(self, doc_id: str) -> Summary:
        self.calls.append(("summarize_article", doc_id))
        article = next((a for a in self.articles if a.doc_id == doc_id), None)
        if article is None:
            raise NotFoundError(f"No article with id “{doc_id}”.")
        return Summary("article", article.title, f"{article.sentences()[0]} [1]", [_cite(1, article)])

    def summarize_topic(self, topic: str, *, as_of: dt.date | None = None) -> Summary:
        self.calls.append(("summarize_topic", topic))
        self.dates.append(("summarize_topic", topic, as_of))
        matches = [a for a, _ in self._matches(topic)]
        text = " ".join(f"{a.sentences()[0]} [{n}]" for n, a in enumerate(matches, 1)) or ABSTAIN
        return Summary("topic", topic, text, [_cite(n, a) for n, a in enumerate(matches, 1)])

    def summarize_dates(self, since: dt.date, until: dt.date | None = None, *,
                        as_of: dt.date | None = None) -> Summary:
        self.calls.append(("summarize_dates", since, until))
        self.dates.append(("summarize_dates", str(since), as_of))
        until = until or as_of
        inside = [a for a in self.articles
                  if since.isoformat() <= a.date and (until is None or a.date <= until.isoformat())]
        text = " ".join(f"{a.sentences()[0]} [{n}]" for n, a in enumerate(inside, 1)) or ABSTAIN
        subject = f"{since.isoformat()} to {until.isoformat() if until else 'now'}"
        return Summary("dates", subject, text, [_cite(n, a) for n, a in enumerate(inside, 1)])

    def sources(self) -> list[SourceInfo]:
        return [SourceInfo(a.doc_id, a.title, a.source, a.date, a.url, chunks=1) for a in self.articles]

    def close(self, timeout: float | None = 10.0) -> None:
        self.calls.append(("close",))

    # -- helpers

    def _matches(self, query: str) -> list[tuple[FakeArticle, int]]:
        words = _words(query)
        scored = [(a, len(words & _words(a.text))) for a in self.articles]
        return sorted([(a, n) for a, n in scored if n], key=lambda x: -x[1])

    def asked(self) -> list[tuple]:
        return [c for c in self.calls if c[0] == "ask"]


def _words(text: str) -> set[str]:
    return {w for w in re.findall(r"[a-z]+", text.lower()) if len(w) >= 4} - {"which", "what", "does", "there", "first"}


def _cite(n: int, a: FakeArticle) -> Citation:
    return Citation(n, a.doc_id, a.title, a.source, a.date, a.url, a.sentences()[0])
