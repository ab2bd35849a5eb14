"""Composer settings chosen by cross-validation over articles, on both dev sets at once.

    .venv/bin/python -m bench.composer_cv              # needs bench.quality's cached index
    .venv/bin/python -m bench.composer_cv --grid 'min_evidence=0.5,0.55,0.6;chat_model_weight=0.5,1'
    .venv/bin/python -m bench.composer_cv --grid 'person_weight=0.1,0.2' --check ../shared/eval/natural-train
    .venv/bin/python -m bench.composer_cv --grid 'recent_min_evidence=0.55,0.6,0.65,0.7' --no-option
    .venv/bin/python -m bench.composer_cv --grid 'evidence_discount=0,0.05' --no-option --weeks

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
in-sample figures, and what each fold chose. `--weeks` deals RealTimeQA's weekly quizzes into
the folds instead (and each natural question with its week's quiz), as bench.crossval does
for search settings: the sealed sets are other weeks' news.

`--no-option` adds RealTimeQA's questions asked again with every article holding the right
option left out (as bench.quality's no-option pass asks them): refusing one is right. Without
it, a setting that answers more at the cost of answering those (`recent_min_evidence`) wins
for nothing.

`--check FOLDER` adds a natural-question set over other articles of the same index
(natural-train: 1,030 questions, none of whose gold articles is natural-dev's), scored for
every setting but never used to choose one: a rule written from the dev questions' failures
shows there whether it holds on questions it was not written from. (The shipped answer model
was trained on natural-train, so its absolute figures there are optimistic; a setting's or a
rule's change is not.)
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
from bench.dataset import DEFAULT_DATASET, load_article_records, load_questions
from bench.metrics import exact_option, option_holders
from bench.natural import holds, load_natural
from bench.passes import asking_without
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

    kind: str  # "natural" | "rtqa" | "noopt" (RealTimeQA, no article holding the option) | "check"
    question: object
    text: str
    passages: list
    recent_since: object
    fold: int

    def right(self, answer) -> bool:
        if self.kind == "noopt":  # the archive no longer holds the answer
            return answer.abstained
        if self.kind == "rtqa":
            return not answer.abstained and exact_option(answer.text, self.question)
        if not self.question.answerable:
            return answer.abstained
        return not answer.abstained and holds(answer.text, self.question.must_include)


def fold_of(key: str, folds: int) -> int:
    return int(hashlib.md5(key.encode()).hexdigest(), 16) % folds


CHECK_FOLD = -1  # the fold of the `--check` set's questions: in none of the cross-validation's


def cases(desk, folds: int, check: Path | None = None, no_option: bool = False) -> list[Case]:
    """Every question searched once, as `ask` searches it; with `no_option`, RealTimeQA's
    questions again with every article holding the right option left out (in the same fold
    as the question)."""
    found = []
    questions = load_questions(DEFAULT_DATASET)
    asked = [("rtqa", q, q.text, q.date, sorted(q.gold)) for q in questions]
    asked += [("natural", q, q.text, q.as_of, sorted(q.gold) or [q.id]) for q in load_natural()]
    asked += [("check", q, q.text, q.as_of, None) for q in (load_natural(check) if check else [])]
    with err.status("searching") as status:
        for n, (kind, q, text, as_of, keys) in enumerate(asked, start=1):
            status.update(f"searching {n}/{len(asked)}")
            passages = desk.search(text, k=ASK_PASSAGES, as_of=as_of)
            found.append(Case(kind, q, text, passages, desk.time_hints(text, as_of).recent_since(),
                              fold_of(str(keys[0]), folds) if keys else CHECK_FOLD))
    if no_option:
        holders = option_holders(questions, load_article_records(DEFAULT_DATASET))
        view, without = asking_without(desk)
        with err.status("searching without the option's articles"):
            for q in questions:
                without.left_out = q.gold | holders[q.id]
                passages = view.search(q.text, k=ASK_PASSAGES, as_of=q.date)
                found.append(Case("noopt", q, q.text, passages, desk.time_hints(q.text, q.date).recent_since(),
                                  fold_of(str(sorted(q.gold)[0]), folds)))
    return found


def by_week(found: Sequence[Case], folds: int) -> list[Case]:
    """The same cases dealt into folds of RealTimeQA's weekly quizzes (week i to fold i mod
    `folds`, as bench.crossval deals them): a natural question goes with the first quiz on or
    after its day, whose week's articles it was written over. The sealed sets are other weeks'
    news, so this is the split that says what holds there. The check set stays out."""
    weeks = sorted({c.question.date for c in found if c.kind in ("rtqa", "noopt")})
    fold_of_week = {week: i % folds for i, week in enumerate(weeks)}

    def fold(case: Case) -> int:
        if case.kind == "check":
            return CHECK_FOLD
        day = case.question.date if case.kind in ("rtqa", "noopt") else case.question.as_of
        return fold_of_week[next((week for week in weeks if week >= day), weeks[-1])]

    return [dataclasses.replace(c, fold=fold(c)) for c in found]


def outcomes(composer: Composer, found: Sequence[Case]) -> np.ndarray:
    return np.array([c.right(composer.compose(c.text, c.passages, recent_since=c.recent_since)) for c in found])


@app.command()
def main(grid: Annotated[str, typer.Option(help="ComposerOptions grid (simplest first)")] = GRID,
         folds: Annotated[int, typer.Option(help="folds of articles")] = 4,
         weeks: Annotated[bool, typer.Option("--weeks", help="folds of RealTimeQA's weeks instead of articles "
                          "(`by_week`)")] = False,
         answer_model: Annotated[Path | None, typer.Option(help="another answer model's folder (a "
                                 "candidate from training/), instead of the shipped one")] = None,
         check: Annotated[Path | None, typer.Option(help="a natural-question folder over the same index, "
                          "scored for every setting, never chosen on (e.g. ../shared/eval/natural-train)")] = None,
         no_option: Annotated[bool, typer.Option("--no-option", help="also ask RealTimeQA's questions with every "
                              "article holding the right option left out: refusing them is right")] = False,
         as_json: Annotated[bool, typer.Option("--json")] = False) -> None:
    _, desk = tune.cached_desk(False, memoise=True)
    model = AnswerModel(answer_model) if answer_model else desk.composer.answer_model
    base = desk.composer.options
    if answer_model:  # a candidate is judged with its own calibration, as build_newsdesk would ship it
        base = dataclasses.replace(base, min_answer_probability=model.min_probability)
    scorer = MemoScorer(model)
    found = cases(desk, folds, check, no_option)
    if weeks:
        found = by_week(found, folds)
    settings = tune.grid(grid)

    def compose_all(update: dict) -> np.ndarray:
        options = dataclasses.replace(base, **update)  # the model's own calibration
        return outcomes(tune.offline_composer(desk, options, scorer), found)

    with err.status("composing") as status:
        shipped = compose_all({})
        right = []
        for n, update in enumerate(settings, start=1):
            status.update(f"setting {n}/{len(settings)}: {update}")
            right.append(compose_all(update))
    fold = np.array([c.fold for c in found])
    natural = np.array([c.kind == "natural" for c in found])
    rtqa = np.array([c.kind == "rtqa" for c in found])
    noopt = np.array([c.kind == "noopt" for c in found])
    unanswerable = np.array([c.kind == "natural" and not c.question.answerable for c in found])
    checked = np.array([c.kind == "check" for c in found])
    check_unanswerable = np.array([c.kind == "check" and not c.question.answerable for c in found])

    def figures(r: np.ndarray) -> dict:
        counts = {"right": int(r[~checked].sum()), "natural": int(r[natural].sum()), "rtqa": int(r[rtqa].sum()),
                  "unanswerable_refused": int(r[unanswerable].sum()), "no_option_refused": int(r[noopt].sum())}
        if checked.any():
            counts |= {"check_correct": int(r[checked & ~check_unanswerable].sum()),
                       "check_unanswerable_refused": int(r[check_unanswerable].sum())}
        return counts

    chosen, held_out, shipped_held_out = [], 0, 0
    for f in range(folds):
        scores = [int(r[(fold != f) & ~checked].sum()) for r in right]  # the check set never chooses
        best = max(range(len(settings)), key=lambda i: (scores[i], -i))
        held_out += int(right[best][fold == f].sum())
        shipped_held_out += int(shipped[fold == f].sum())
        chosen.append({"fold": f, "setting": settings[best], "train_right": scores[best],
                       "held_out_right": int(right[best][fold == f].sum()), "questions": int((fold == f).sum())})
    report = {
        "questions": int((~checked).sum()), "folds": folds,
        "shipped": figures(shipped),
        "held_out_right": held_out, "shipped_right_same_folds": shipped_held_out,
        "chosen_per_fold": chosen,
        "grid": [{"setting": s, **figures(r)} for s, r in zip(settings, right)],
    }
    if as_json:
        print(json.dumps(report, indent=2))
        return
    s = report["shipped"]
    asked_without = f", {int(noopt.sum())} without the option's articles" if noopt.any() else ""
    out.print(f"{int((~checked).sum())} questions ({int(natural.sum())} natural, {int(rtqa.sum())} RealTimeQA"
              f"{asked_without}), {folds} folds of {'weeks' if weeks else 'articles'}")

    def without(g: dict) -> str:
        return f"; {g['no_option_refused']} no-option refused" if noopt.any() else ""

    out.print(f"shipped settings: {s['right']} right ({s['natural']} natural, of them {s['unanswerable_refused']} "
              f"of {int(unanswerable.sum())} unanswerable refused; {s['rtqa']} RealTimeQA{without(s)})")
    out.print(f"held out: {held_out} right, each fold scored by the setting chosen on the others")
    for c in chosen:
        out.print(f"  fold {c['fold']}: {c['setting']} ({c['train_right']} right on the other folds, "
                  f"{c['held_out_right']} of {c['questions']} held out)")
    best = max(report["grid"], key=lambda g: g["right"])
    out.print(f"best in-sample: {best['setting']} {best['right']} right ({best['natural']} natural, of them "
              f"{best['unanswerable_refused']} unanswerable refused; {best['rtqa']} RealTimeQA{without(best)})")
    if checked.any():
        answerable = int((checked & ~check_unanswerable).sum())
        out.print(f"check set ({check}, never chosen on): of {answerable} answerable / "
                  f"{int(check_unanswerable.sum())} unanswerable, correct / refused")
        for name, g in [("shipped", s)] + [(str(g["setting"]), g) for g in report["grid"]]:
            out.print(f"  {name}: {g['check_correct']} / {g['check_unanswerable_refused']}")


if __name__ == "__main__":
    app()
