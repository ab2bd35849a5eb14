"""Composer settings chosen by cross-validation over articles, on both dev sets at once.

    .venv/bin/python -m bench.composer_cv              # needs bench.quality's cached index
    .venv/bin/python -m bench.composer_cv --grid 'min_evidence=0.5,0.55,0.6;chat_model_weight=0.5,1'

Each question of RealTimeQA dev (141 quiz questions) and natural-dev (160 chat questions, 40
of them unanswerable) is searched once, as `Newsdesk.ask` searches it; then the real composer
(`retrieval.answers.Composer`) answers it once per setting of the grid, its answer-model
logits and sentence vectors memoised (so a setting costs seconds, and int8 logits are those
of the sentence's first batch, which can differ from a fresh ask's in the third decimal).

A right outcome is a correct natural answer (every answer group present), a refused
unanswerable natural question, or RealTimeQA's exact option. The questions are dealt into
folds by their first gold article (natural's unanswerable ones by id), so no article is on
both sides; for each fold the setting with most right outcomes on the other folds is kept
(ties to the simpler setting: the earlier in the grid) and scored on the fold. Printed: the
held-out total beside the shipped settings' total on the same folds, each setting's
in-sample figures, and what each fold chose.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
from collections.abc import Sequence
from pathlib import Path
from typing import Annotated

import numpy as np
import typer

from bench import tune
from bench.console import err, out
from bench.dataset import DEFAULT_DATASET, load_questions
from bench.metrics import exact_option
from bench.natural import holds, load_natural
from retrieval.answer_model import AnswerModel
from retrieval.answers import Composer
from retrieval.config import ASK_PASSAGES

app = typer.Typer(add_completion=False, pretty_exceptions_enable=False)

# Around the shipped settings (retrieval/answers.py), simplest first along each axis.
GRID = "chat_model_weight=0.5,1,1.5;min_evidence=0.5,0.55,0.6,0.65;min_answer_probability=0,0.1,0.15"


class MemoScorer:
    """The answer model, each (question, sentence) scored once per run."""

    def __init__(self, inner):
        self.inner = inner
        self.memo: dict[tuple[str, str], float] = {}

    def logits(self, question: str, sentences: Sequence[str]) -> np.ndarray:
        missing = [s for s in dict.fromkeys(sentences) if (question, s) not in self.memo]
        for sentence, logit in zip(missing, self.inner.logits(question, missing)):
            self.memo[question, sentence] = float(logit)
        return np.array([self.memo[question, s] for s in sentences], dtype=np.float32)


@dataclasses.dataclass(frozen=True)
class Case:
    """One question, searched once: what the composer is given, and how its answer is scored."""

    kind: str  # "natural" | "rtqa"
    question: object
    text: str
    passages: list
    recent_since: object
    fold: int

    def right(self, answer) -> bool:
        if self.kind == "rtqa":
            return not answer.abstained and exact_option(answer.text, self.question)
        if not self.question.answerable:
            return answer.abstained
        return not answer.abstained and holds(answer.text, self.question.must_include)


def fold_of(key: str, folds: int) -> int:
    return int(hashlib.md5(key.encode()).hexdigest(), 16) % folds


def cases(desk, folds: int) -> list[Case]:
    found = []
    asked = [("rtqa", q, q.text, q.date, sorted(q.gold)) for q in load_questions(DEFAULT_DATASET)]
    asked += [("natural", q, q.text, q.as_of, sorted(q.gold) or [q.id]) for q in load_natural()]
    with err.status("searching") as status:
        for n, (kind, q, text, as_of, keys) in enumerate(asked, start=1):
            status.update(f"searching {n}/{len(asked)}")
            passages = desk.search(text, k=ASK_PASSAGES, as_of=as_of)
            found.append(Case(kind, q, text, passages, desk.time_hints(text, as_of).recent_since(),
                              fold_of(str(keys[0]), folds)))
    return found


def outcomes(composer: Composer, found: Sequence[Case]) -> np.ndarray:
    return np.array([c.right(composer.compose(c.text, c.passages, recent_since=c.recent_since)) for c in found])


@app.command()
def main(grid: Annotated[str, typer.Option(help="ComposerOptions grid (simplest first)")] = GRID,
         folds: Annotated[int, typer.Option(help="folds of articles")] = 4,
         answer_model: Annotated[Path | None, typer.Option(help="another answer model's folder (a "
                                 "candidate from training/), instead of the shipped one")] = None,
         as_json: Annotated[bool, typer.Option("--json")] = False) -> None:
    _, desk = tune.cached_desk(False, memoise=True)
    model = AnswerModel(answer_model) if answer_model else desk.composer.answer_model
    base = desk.composer.options
    if answer_model:  # a candidate is judged with its own calibration, as build_newsdesk would ship it
        base = dataclasses.replace(base, min_answer_probability=model.min_probability)
    scorer = MemoScorer(model)
    found = cases(desk, folds)
    settings = tune.grid(grid)

    def compose_all(update: dict) -> np.ndarray:
        options = dataclasses.replace(base, **update)  # the model's own calibration
        return outcomes(Composer(desk.embeddings, options, idf=desk.lexical.idf, answer_model=scorer), found)

    with err.status("composing") as status:
        shipped = compose_all({})
        right = []
        for n, update in enumerate(settings, start=1):
            status.update(f"setting {n}/{len(settings)}: {update}")
            right.append(compose_all(update))
    fold = np.array([c.fold for c in found])
    natural = np.array([c.kind == "natural" for c in found])
    unanswerable = np.array([c.kind == "natural" and not c.question.answerable for c in found])

    def figures(r: np.ndarray) -> dict:
        return {"right": int(r.sum()), "natural": int(r[natural].sum()), "rtqa": int(r[~natural].sum()),
                "unanswerable_refused": int(r[unanswerable].sum())}

    chosen, held_out, shipped_held_out = [], 0, 0
    for f in range(folds):
        scores = [int(r[fold != f].sum()) for r in right]
        best = max(range(len(settings)), key=lambda i: (scores[i], -i))
        held_out += int(right[best][fold == f].sum())
        shipped_held_out += int(shipped[fold == f].sum())
        chosen.append({"fold": f, "setting": settings[best], "train_right": scores[best],
                       "held_out_right": int(right[best][fold == f].sum()), "questions": int((fold == f).sum())})
    report = {
        "questions": len(found), "folds": folds,
        "shipped": figures(shipped),
        "held_out_right": held_out, "shipped_right_same_folds": shipped_held_out,
        "chosen_per_fold": chosen,
        "grid": [{"setting": s, **figures(r)} for s, r in zip(settings, right)],
    }
    if as_json:
        print(json.dumps(report, indent=2))
        return
    s = report["shipped"]
    out.print(f"{len(found)} questions ({int(natural.sum())} natural, {int((~natural).sum())} RealTimeQA), "
              f"{folds} folds of articles")
    out.print(f"shipped settings: {s['right']} right ({s['natural']} natural, of them {s['unanswerable_refused']} "
              f"of {int(unanswerable.sum())} unanswerable refused; {s['rtqa']} RealTimeQA)")
    out.print(f"held out: {held_out} right, each fold scored by the setting chosen on the others")
    for c in chosen:
        out.print(f"  fold {c['fold']}: {c['setting']} ({c['train_right']} right on the other folds, "
                  f"{c['held_out_right']} of {c['questions']} held out)")
    best = max(report["grid"], key=lambda g: g["right"])
    out.print(f"best in-sample: {best['setting']} {best['right']} right ({best['natural']} natural, of them "
              f"{best['unanswerable_refused']} unanswerable refused; {best['rtqa']} RealTimeQA)")


if __name__ == "__main__":
    app()
