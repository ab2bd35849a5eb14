"""The natural-question pass: chat-style questions, as people type them in a channel.

Reads a set in the format of ../shared/eval/natural-dev/ by path (never copied into the
repository): each question is asked as of its `as_of` day. Scoring, as the set's README
defines it:
- correct: answered (no abstention) and, for every `must_include` group, at least one of its
  alternatives occurs in the answer text (case-insensitive, curly and straight quotes alike);
- cites gold: an answerable question's answer cites one of its `gold_doc_ids`;
- wrongly abstains: an answerable question refused;
- abstains on the unanswerable: no article states the answer, so refusing is right.
The naive baseline answers from BM25's top chunk (as-of filtered) with the sentence sharing
most words with the question, and never abstains.
"""

from __future__ import annotations

import datetime as dt
import json
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from retrieval.answer_model import normalise_quotes
from retrieval.answers import THRESHOLD_FREE, closest
from retrieval.models import Answer
from retrieval.store import date_number

NATURAL_DEV = Path(__file__).resolve().parent.parent.parent / "shared" / "eval" / "natural-dev"


@dataclass(frozen=True)
class NaturalQuestion:
    id: str
    text: str
    as_of: dt.date
    answerable: bool
    kind: str
    must_include: tuple[tuple[str, ...], ...] = ()
    gold: frozenset[str] = frozenset()
    evidence: str = ""  # answerable only: one sentence of a gold article that states the answer


def load_natural(folder: Path = NATURAL_DEV) -> list[NaturalQuestion]:
    found = []
    for line in (folder / "questions.jsonl").read_text(encoding="utf-8").splitlines():
        if line.strip():
            r = json.loads(line)
            found.append(NaturalQuestion(
                r["id"], r["question"], dt.date.fromisoformat(r["as_of"]), r["answerable"], r["kind"],
                tuple(tuple(group) for group in r.get("must_include", [])), frozenset(r.get("gold_doc_ids", [])),
                r.get("evidence", "")))
    return found


def holds(text: str, groups: Sequence[Sequence[str]]) -> bool:
    """Every group has an alternative in `text` (case-insensitive, curly quotes straightened)."""
    low = normalise_quotes(text).lower()
    return all(any(normalise_quotes(alt).lower() in low for alt in group) for group in groups)


@dataclass
class NaturalOutcome:
    question: NaturalQuestion
    answer: str = ""
    abstained: bool = False
    because: str = ""
    cited: tuple[str, ...] = ()
    latency_ms: float = 0.0
    naive_correct: bool = False
    # The composer's abstention signals, for replaying its rule at other thresholds
    # (bench.metrics.abstains): best passage similarity, best sentence's evidence, stale.
    signals: tuple[float, float | None, bool] = (0.0, None, False)

    @property
    def correct(self) -> bool:
        return self.question.answerable and not self.abstained and holds(self.answer, self.question.must_include)

    @property
    def cites_gold(self) -> bool:
        return any(doc in self.question.gold for doc in self.cited)


def outcome_of(q: NaturalQuestion, answer: Answer, latency_ms: float, considered: int) -> NaturalOutcome:
    similarity = answer.similarity if answer.similarity is not None else closest(answer.passages[:considered])
    signals = (similarity, answer.evidence, answer.abstained_because in THRESHOLD_FREE)
    return NaturalOutcome(q, answer.text, answer.abstained, answer.abstained_because,
                          tuple(c.doc_id for c in answer.citations), latency_ms, signals=signals)


def ask_natural(desk, questions: Sequence[NaturalQuestion], lexical=None,
                naive_answer: Callable[[str, str], str] | None = None, status=None) -> list[NaturalOutcome]:
    """Every question through `desk.ask`, as of its day; with `lexical` (a plain BM25 index
    over the same chunks) and `naive_answer` (question, chunk text -> a sentence), the naive
    baseline too."""
    considered = desk.composer.options.passages_considered
    outcomes = []
    for n, q in enumerate(questions, start=1):
        if status is not None:
            status.update(f"natural questions {n}/{len(questions)}")
        started = time.perf_counter()
        answer = desk.ask(q.text, as_of=q.as_of)
        o = outcome_of(q, answer, (time.perf_counter() - started) * 1000, considered)
        if lexical is not None and naive_answer is not None and q.answerable:
            hits = lexical.search(q.text, 1, until=date_number(q.as_of))
            top = desk.store.get([cid for cid, _ in hits])
            o.naive_correct = bool(top) and holds(naive_answer(q.text, next(iter(top.values()))[0].text),
                                                  q.must_include)
        outcomes.append(o)
    return outcomes


def natural_figures(outcomes: Sequence[NaturalOutcome]) -> dict[str, float]:
    answerable = [o for o in outcomes if o.question.answerable]
    unanswerable = [o for o in outcomes if not o.question.answerable]

    def share(items, test) -> float:
        return sum(1 for o in items if test(o)) / max(1, len(items))

    return {
        "questions": len(outcomes),
        "answerable": len(answerable),
        "correct": share(answerable, lambda o: o.correct),
        "cites_gold": share(answerable, lambda o: o.cites_gold),
        "wrongly_abstains": share(answerable, lambda o: o.abstained),
        "abstains_unanswerable": share(unanswerable, lambda o: o.abstained),
        "naive_correct": share(answerable, lambda o: o.naive_correct),
    }


def by_kind(outcomes: Sequence[NaturalOutcome]) -> dict[str, dict[str, float]]:
    """Correct and wrongly-abstains per question kind (who, what, when, …), answerable only."""
    kinds: dict[str, list[NaturalOutcome]] = {}
    for o in outcomes:
        if o.question.answerable:
            kinds.setdefault(o.question.kind, []).append(o)
    return {k: {"n": len(v), "correct": sum(o.correct for o in v) / len(v),
                "abstained": sum(o.abstained for o in v) / len(v)} for k, v in sorted(kinds.items())}
