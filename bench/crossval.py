"""Search settings chosen by cross-validation over weeks: the figure that holds on unseen news.

    .venv/bin/python -m bench.crossval                 # needs bench.quality's cached index
    .venv/bin/python -m bench.crossval --folds 4 --json

The RealTimeQA dev set's questions come in weekly quizzes. The weeks are dealt into folds
(week i goes to fold i mod F); for each fold, every setting of the grid is scored on the
other folds' questions, the best one (by MRR@10, ties to the simpler setting: the one
earlier in the grid) is kept, and it is scored on the fold's own questions. Printed: each
setting's in-sample figures, the setting each fold chose, and the held-out MRR@10 and hit@k
over all questions (each scored by a setting chosen without it), beside the in-sample
figures of the shipped defaults. Search results are memoised per setting, so each question
is searched once per setting.
"""

from __future__ import annotations

import dataclasses
import json
from typing import Annotated

import typer

from bench import tune
from bench.console import err, out
from bench.metrics import distinct, gold_rank, retrieval_figures
from bench.passes import SEARCH_K
from retrieval.search import SearchOptions, Searcher

app = typer.Typer(add_completion=False, pretty_exceptions_enable=False)

# Simplest first: a tie goes to the earlier setting. Plain RRF (Cormack et al.'s k=60, no
# time bonus) leads, then smaller k, then the recency and date-window votes.
GRID = "rrf_k=60,20,10,5;recency_weight=0,0.5,1,1.5;recency_half_life_days=14,28;window_weight=0,1"


def ranks_of(desk, questions, options: SearchOptions) -> dict[str, int | None]:
    desk = desk.with_parts(searcher=Searcher(desk.store, desk.embeddings, desk.lexical.current, options))
    return {q.id: gold_rank(distinct(p.doc_id for p in desk.search(q.text, k=SEARCH_K, as_of=q.date)), q.gold)
            for q in questions}


def folds_of(questions, folds: int) -> list[list]:
    weeks = sorted({q.date for q in questions})
    fold_of_week = {week: i % folds for i, week in enumerate(weeks)}
    return [[q for q in questions if fold_of_week[q.date] == f] for f in range(folds)]


def figures(ranks: dict[str, int | None], questions) -> dict[str, float]:
    return retrieval_figures([ranks[q.id] for q in questions])


@app.command()
def main(folds: Annotated[int, typer.Option(help="folds of weeks")] = 4,
         grid: Annotated[str, typer.Option(help="SearchOptions grid (simplest first)")] = GRID,
         as_json: Annotated[bool, typer.Option("--json")] = False) -> None:
    questions, desk = tune.cached_desk(False, memoise=True)
    settings = tune.grid(grid)
    with err.status("searching") as status:
        ranks = []
        for n, update in enumerate(settings, start=1):
            status.update(f"setting {n}/{len(settings)}: {update}")
            ranks.append(ranks_of(desk, questions, dataclasses.replace(SearchOptions(), **update)))
        shipped = ranks_of(desk, questions, SearchOptions())
    held_out: dict[str, int | None] = {}
    chosen = []
    for f, test in enumerate(folds_of(questions, folds)):
        train = [q for q in questions if q not in test]
        scores = [figures(r, train)["mrr@10"] for r in ranks]
        best = max(range(len(settings)), key=lambda i: (round(scores[i], 6), -i))
        chosen.append({"fold": f, "setting": settings[best], "train_mrr@10": scores[best],
                       "test_mrr@10": figures(ranks[best], test)["mrr@10"], "questions": len(test)})
        held_out.update({q.id: ranks[best][q.id] for q in test})
    best_in_sample = max(range(len(settings)), key=lambda i: (round(figures(ranks[i], questions)["mrr@10"], 6), -i))
    report = {
        "questions": len(questions), "weeks": len({q.date for q in questions}), "folds": folds,
        "shipped": {"setting": dataclasses.asdict(SearchOptions()), **figures(shipped, questions)},
        "best_in_sample": {"setting": settings[best_in_sample], **figures(ranks[best_in_sample], questions)},
        "held_out": figures(held_out, questions),
        "chosen_per_fold": chosen,
        "grid": [{"setting": s, **figures(r, questions)} for s, r in zip(settings, ranks)],
    }
    if as_json:
        print(json.dumps(report, indent=2))
        return
    out.print(f"{report['questions']} questions, {report['weeks']} weeks, {folds} folds of weeks")
    for name in ("shipped", "best_in_sample"):
        r = report[name]
        out.print(f"{name:>15} in-sample: hit@1 {r['hit@1']:.3f} hit@5 {r['hit@5']:.3f} mrr@10 {r['mrr@10']:.3f}"
                  + (f"  {r['setting']}" if name == "best_in_sample" else ""))
    h = report["held_out"]
    out.print(f"{'held-out weeks':>15}: hit@1 {h['hit@1']:.3f} hit@5 {h['hit@5']:.3f} mrr@10 {h['mrr@10']:.3f}")
    for c in chosen:
        out.print(f"  fold {c['fold']}: {c['setting']} train mrr {c['train_mrr@10']:.3f}, "
                  f"held-out mrr {c['test_mrr@10']:.3f} ({c['questions']} questions)")


if __name__ == "__main__":
    app()
