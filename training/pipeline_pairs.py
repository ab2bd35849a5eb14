"""Training pairs from the product's own pipeline: the sentences it would quote.

    .venv/bin/python -m training.pipeline_pairs /tmp/pipeline-pairs.jsonl
    .venv/bin/python -m training.train_answer_model --extra-pairs /tmp/pipeline-pairs.jsonl

Each natural-train question is asked as the product asks it (the dev index that
bench/quality.py builds and caches, searched as of the question's day), and the composer
ranks the retrieved passages' sentences as it answers, with the answer model it ships.
Of its 8 best sentences:
- those holding every answer group of an answerable question are positives (up to 2; the
  question's `evidence` sentence is already one);
- the 4 best that do not, and the 4 best for an unanswerable question, are negatives.
These are the mistakes the shipped model still makes (an article's lead sentence, a sentence
about the same event that holds another number): one round of hard-negative mining. The
shipped model was trained on the pairs that the model of the plain recipe (this script's
defaults without --extra-pairs) ranked; pairs ranked without any model gave a worse model
(training/README.md). The pairs quote article text, so
they are written outside the repository, like the data they come from.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from bench.natural import holds, load_natural
from retrieval.config import ASK_PASSAGES

from .train_answer_model import EVAL

POSITIVES = 2
NEGATIVES = 4
RANKED = 8


def pipeline_pairs(desk, questions, positives: int = POSITIVES, negatives: int = NEGATIVES) -> list[list]:
    """[question, sentence, label] for each question, from what `desk` retrieves and ranks."""
    composer = desk.composer
    pairs = []
    for q in questions:
        hints = desk.time_hints(q.text, q.as_of)
        passages = desk._search(q.text, k=ASK_PASSAGES, as_of=q.as_of, hints=hints)
        ranked = composer.rank(q.text, passages, recent_since=hints.recent_since())[:RANKED]
        evidence = q.evidence
        texts = [c.text for c in ranked if not (evidence and (c.text in evidence or evidence in c.text))]
        if q.answerable:
            pairs += [[q.text, t, 1.0] for t in texts if holds(t, q.must_include)][:positives]
            pairs += [[q.text, t, 0.0] for t in texts if not holds(t, q.must_include)][:negatives]
        else:
            pairs += [[q.text, t, 0.0] for t in texts[:negatives]]
    return pairs


def main(out: Annotated[Path, typer.Argument(help="where to write the pairs, a JSON list a line")]) -> None:
    from bench.tune import cached_desk

    _, desk = cached_desk(False)
    questions = load_natural(EVAL / "natural-train")
    pairs = pipeline_pairs(desk, questions)
    out.write_text("".join(json.dumps(p) + "\n" for p in pairs), encoding="utf-8")
    print(f"{len(pairs)} pairs ({sum(p[2] for p in pairs):.0f} positive) from {len(questions)} questions: {out}")


if __name__ == "__main__":
    typer.run(main)
