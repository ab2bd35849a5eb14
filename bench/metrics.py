"""The quality benchmark's metrics: plain functions over answers and rankings, checked by
hand in tests/test_bench_metrics.py (definitions in bench/quality.py's docstring)."""

from __future__ import annotations

import math
import re
import unicodedata
from collections.abc import Iterable, Sequence

from bench.dataset import Question
from retrieval.lexical import terms
from retrieval.models import Answer
from retrieval.sentences import sentence_spans

RANK_DEPTH = 10  # hit@k and MRR are computed over the first 10 distinct articles
SWEEP = [0.0] + [round(0.40 + 0.025 * i, 3) for i in range(17)]  # min_evidence: none, 0.40 … 0.80


_QUOTES = str.maketrans({"‘": "'", "’": "'", "‚": "'", "′": "'", "`": "'",
                         "“": '"', "”": '"', "„": '"', "″": '"'})


def normalise(text: str) -> str:
    """Lower case, straight quotes, single spaces."""
    return " ".join(unicodedata.normalize("NFKC", text).translate(_QUOTES).lower().split())


def option_pattern(option: str) -> re.Pattern | None:
    """The option as a regex over normalised text, on word boundaries ("12" matches neither
    "2012" nor "12.6"); None for an empty option."""
    core = normalise(option).strip("'\" ")
    return re.compile(r"(?<!\w)(?<!\d[.,])" + re.escape(core) + r"(?!\w)(?![.,]\d)") if core else None


def contains_option(text: str, option: str) -> bool:
    """Whether normalised `text` holds the option."""
    pattern = option_pattern(option)
    return pattern is not None and pattern.search(normalise(text)) is not None


def exact_option(text: str, question: Question) -> bool:
    return contains_option(text, question.answer) and not any(contains_option(text, w) for w in question.wrong)


def distinct(doc_ids: Iterable[str], depth: int = RANK_DEPTH) -> list[str]:
    """Article ids in order of first appearance, at most `depth`."""
    seen: list[str] = []
    for doc in doc_ids:
        if doc not in seen:
            seen.append(doc)
            if len(seen) == depth:
                break
    return seen


def gold_rank(ranking: Sequence[str], gold: frozenset[str]) -> int | None:
    """1-based rank of the first gold article, None when none is ranked."""
    return next((i for i, doc in enumerate(ranking, start=1) if doc in gold), None)


def retrieval_figures(ranks: Sequence[int | None]) -> dict[str, float]:
    n = len(ranks) or 1
    figures = {f"hit@{k}": sum(1 for r in ranks if r is not None and r <= k) / n for k in (1, 5, 10)}
    figures["mrr@10"] = sum(1 / r for r in ranks if r is not None and r <= 10) / n
    return figures


def wrong_citations(answer: Answer, article_texts: dict[str, str]) -> int:
    """Citations whose quote is not verbatim in the cited article."""
    bad = 0
    for citation in answer.citations:
        text = article_texts.get(citation.doc_id)
        if text is None or not all(piece in text for piece in citation.quotes()):
            bad += 1
    return bad


def naive_answer(question: str, chunk_text: str) -> str:
    """The sentence of a chunk that shares most content words with the question."""
    wanted = set(terms(question))
    sentences = [chunk_text[s:e] for s, e in sentence_spans(chunk_text)] or [chunk_text]
    return max(sentences, key=lambda s: len(wanted & set(terms(s))))


def option_holders(questions: Sequence[Question], records: Sequence[dict]) -> dict[str, frozenset[str]]:
    """For each question: the articles (of any date) whose title or text holds its right option."""
    corpus = [(r["id"], normalise(f"{r.get('title') or ''}\n{r['text']}")) for r in records]
    holders = {}
    for q in questions:
        pattern = option_pattern(q.answer)
        holders[q.id] = frozenset(doc for doc, text in corpus if pattern is not None and pattern.search(text))
    return holders


def answer_left_corpus(questions: Sequence[Question], records: Sequence[dict],
                       holders: dict[str, frozenset[str]]) -> dict[str, bool]:
    """For each question: whether no article but its gold ones (dated on or before its as-of
    date, or undated) holds the right option's text. Only for those questions does the
    removed-gold pass take the answer out of the corpus; for the others an answer may still
    be right, so abstaining there is not simply good."""
    dates = {r["id"]: r.get("date") or "" for r in records}
    return {q.id: not any(doc not in q.gold and dates[doc] <= q.date.isoformat() for doc in holders[q.id])
            for q in questions}


def percentile(values: Sequence[float], q: float) -> float:
    """Nearest-rank percentile (q in 0..100)."""
    ordered = sorted(values)
    return ordered[max(0, math.ceil(q / 100 * len(ordered)) - 1)] if ordered else float("nan")


# best passage similarity, best sentence score or None, abstained whatever the threshold
Ask = tuple[float, float | None, bool]


def abstains(ask: Ask, min_evidence: float) -> bool:
    """The composer's abstention rule (retrieval/answers.py), replayed for other thresholds:
    a stale abstention (only older news than the period asked about) or one for want of a
    number is decided before the evidence threshold, so it holds whatever that threshold. The
    composer's closeness gate (`min_similarity`) refuses a question only when its evidence
    fails too, so the evidence bar alone decides here (none is recorded when there was no
    sentence to rank)."""
    _similarity, evidence, stale = ask
    return evidence is None or stale or evidence < min_evidence


def sweep(answerable: Sequence[Ask], removed: Sequence[Ask], no_option: Sequence[Ask], exact_at: Sequence[bool],
          thresholds: Sequence[float] = SWEEP) -> list[dict]:
    """For each `min_evidence` threshold (the other rules fixed): abstain-on-removed-gold,
    abstain-without-the-option, wrongly-abstain-on-answerable, exact option."""
    def share(asks, t):
        return sum(abstains(a, t) for a in asks) / max(1, len(asks))

    return [{
        "threshold": t,
        "abstain_removed_gold": share(removed, t),
        "abstain_no_option": share(no_option, t),
        "wrongly_abstain_answerable": share(answerable, t),
        "exact_option": sum(x and not abstains(a, t)
                            for x, a in zip(exact_at, answerable)) / max(1, len(exact_at)),
    } for t in thresholds]
