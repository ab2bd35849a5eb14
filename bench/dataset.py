"""The quality benchmark's data: a RealTimeQA-format dataset (questions.jsonl and
articles.jsonl.gz, read by path), its --quick subset, and the natural-question set's
questions that an index covers."""

from __future__ import annotations

import datetime as dt
import gzip
import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from bench import natural

DEFAULT_DATASET = Path(__file__).resolve().parent.parent.parent / "shared" / "eval" / "realtimeqa-dev"
QUICK_WEEKS = 2
QUICK_LOOKBACK_DAYS = 7  # quick mode keeps articles dated this long before its first question


@dataclass(frozen=True)
class Question:
    id: str
    date: dt.date
    text: str
    choices: tuple[str, ...]
    answer: str
    gold: frozenset[str]

    @property
    def wrong(self) -> list[str]:
        return [c for c in self.choices if c != self.answer]


def load_questions(folder: Path) -> list[Question]:
    found = []
    for line in (folder / "questions.jsonl").read_text(encoding="utf-8").splitlines():
        if line.strip():
            r = json.loads(line)
            found.append(Question(r["question_id"], dt.date.fromisoformat(r["question_date"]), r["question"],
                                  tuple(r["choices"]), r["answer"][0], frozenset(r["gold_doc_ids"])))
    return found


def load_article_records(folder: Path) -> list[dict]:
    with gzip.open(folder / "articles.jsonl.gz", "rt", encoding="utf-8") as fh:
        return [json.loads(line) for line in fh if line.strip()]


def quick_subset(questions: list[Question], records: list[dict], weeks: int,
                 lookback_days: int = QUICK_LOOKBACK_DAYS) -> tuple[list[Question], list[dict]]:
    """The questions of the first `weeks` quiz dates, and the articles they could draw on:
    those dated from `lookback_days` before the first question to the last one, plus gold."""
    dates = sorted({q.date for q in questions})[:weeks]
    chosen = [q for q in questions if q.date in dates]
    gold = set().union(*(q.gold for q in chosen))
    low, high = dates[0] - dt.timedelta(days=lookback_days), dates[-1]
    kept = [r for r in records
            if r["id"] in gold or (r.get("date") and low <= dt.date.fromisoformat(r["date"]) <= high)]
    return chosen, kept


def write_jsonl(records: Iterable[dict], path: Path) -> Path:
    with gzip.open(path, "wt", encoding="utf-8") as fh:
        for r in records:
            fh.write(json.dumps(r, ensure_ascii=False) + "\n")
    return path


def natural_questions(folder: Path, records: Sequence[dict]) -> list[natural.NaturalQuestion]:
    """The natural set's questions that the indexed articles cover: all of them on the whole
    dev set; with --quick, those asked within its period whose gold articles are indexed."""
    indexed = {r["id"] for r in records}
    dates = sorted(r["date"] for r in records if r.get("date"))
    low, high = dt.date.fromisoformat(dates[0]), dt.date.fromisoformat(dates[-1])
    return [q for q in natural.load_natural(folder)
            if low <= q.as_of <= high and q.gold <= indexed]
