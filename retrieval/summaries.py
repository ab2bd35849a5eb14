"""Extractive summaries, cited like answers: of an article, of a topic, of a date range; and the
passages a writing composer (an LLM) summarizes instead."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Callable, Sequence

from langchain_core.embeddings import Embeddings

from .answers import Candidate, ComposerOptions, candidate_sentences, cite, rank_sentences
from .lexical import terms
from .models import Passage, Summary
from .store import StoredArticle, StoredChunk
from .search import passage_from

# A topic summary keeps sentences scoring at least this share of the best one. Its own setting:
# an answer's runners-up (ComposerOptions.relative_cutoff) were tuned for holding the answer,
# while a summary's tail must stop before stories about something else.
TOPIC_CUTOFF = 0.65


def key_sentences(chunks: Sequence[StoredChunk], count: int, min_chars: int = 40) -> list[Candidate]:
    """The sentences that best stand for an article, in article order.

    SumBasic-style: a sentence scores the mean article frequency of its words, so sentences
    about the article's main subject win over captions and asides; earlier sentences get a
    small lead bonus, as news puts the essentials first.
    """
    # Each sentence once (chunks overlap), in article order.
    sentences = sorted(candidate_sentences([passage_from(c, 0.0, None) for c in chunks], min_chars),
                       key=lambda found: found[1])
    if not sentences:
        return []
    frequency = Counter(t for *_, text in sentences for t in terms(text))
    total = sum(frequency.values()) or 1
    scored = []
    for position, (passage, start, end, text) in enumerate(sentences):
        words = terms(text)
        weight = sum(frequency[w] for w in words) / (total * max(len(words), 1)) if words else 0.0
        lead = 1.0 / (1.0 + 0.15 * position)
        scored.append(Candidate(passage, start, end, text, weight * (1.0 + lead), 0.0))
    best = sorted(scored, key=lambda c: -c.score)[:count]
    return sorted(best, key=lambda c: c.start)


def summarize_article(doc: StoredArticle, chunks: Sequence[StoredChunk], sentences: int = 4) -> Summary:
    chosen = key_sentences(chunks, sentences)
    marked, citations = cite(chosen)
    return Summary(kind="article", subject=doc.title or doc.doc_id, text=" ".join(marked), citations=citations,
                   points=marked)


def summarize_topic(topic: str, passages: Sequence[Passage], embeddings: Embeddings,
                    options: ComposerOptions, idf: Callable[[str], float], points: int = 5) -> Summary:
    """Key sentences on `topic` from several articles, as a dated list, oldest first."""
    ranked = rank_sentences(topic, passages, embeddings, options, idf)
    chosen, per_article = [], Counter()
    for cand in ranked:
        if cand.score < TOPIC_CUTOFF * ranked[0].score:
            # The tail of a search is often about something else that shares a word ("the rail
            # strike" brought a 1997 steel strike; "the Eurovision scandal", a bank's scandal).
            break
        if per_article[cand.passage.doc_id] >= 2:
            continue  # a topic summary draws on several articles when it can
        per_article[cand.passage.doc_id] += 1
        chosen.append(cand)
        if len(chosen) == points:
            break
    chosen.sort(key=lambda c: (c.passage.date or "9999", c.passage.doc_id, c.start))
    marked, citations = cite(chosen)
    lines = [f"{c.passage.date or 'undated'}: {m}" for c, m in zip(chosen, marked)]
    return Summary(kind="topic", subject=topic, text="\n".join(f"- {line}" for line in lines), citations=citations,
                   points=lines)


def pick_period_articles(docs: Sequence[StoredArticle], limit: int) -> list[StoredArticle]:
    """Up to `limit` articles of a period, by date. With more, days are covered evenly
    (round-robin over days, longer articles first) so a busy day does not crowd out the rest."""
    by_day: dict[str, list[StoredArticle]] = {}
    for doc in sorted(docs, key=lambda d: (d.date, -len(d.chunk_ids), d.doc_id)):
        by_day.setdefault(doc.date, []).append(doc)
    picked: list[StoredArticle] = []
    while len(picked) < limit and any(by_day.values()):
        for day in sorted(by_day):
            if by_day[day] and len(picked) < limit:
                picked.append(by_day[day].pop(0))
    return sorted(picked, key=lambda d: (d.date, d.doc_id))


def summarize_period(since: dt.date, until: dt.date, docs: Sequence[StoredArticle],
                     chunks_of, limit: int = 12) -> Summary:
    """What happened between two dates: one key sentence per article, by date."""
    chosen = []
    for doc in pick_period_articles(docs, limit):
        chosen += key_sentences(chunks_of(doc.doc_id), 1)
    marked, citations = cite(chosen)
    lines = [f"{c.passage.date}: {m}" for c, m in zip(chosen, marked)]
    subject = f"{since.isoformat()} to {until.isoformat()}"
    return Summary(kind="dates", subject=subject, text="\n".join(f"- {line}" for line in lines), citations=citations,
                   points=lines)


def article_passages(chunks: Sequence[StoredChunk]) -> list[Passage]:
    """An article's chunks, in article order, as passages to summarize."""
    return [passage_from(c, 0.0, None) for c in sorted(chunks, key=lambda c: int(c.metadata.get("start", 0)))]


def period_passages(docs: Sequence[StoredArticle], chunks_of: Callable[[str], Sequence[StoredChunk]],
                    limit: int = 24) -> list[Passage]:
    """The opening chunk of up to `limit` articles of a period, by date; with more articles,
    days are covered evenly (round-robin), as in the offline period summary."""
    found = []
    for doc in pick_period_articles(docs, limit):
        chunks = article_passages(chunks_of(doc.doc_id))
        if chunks:
            found.append(chunks[0])
    return found
