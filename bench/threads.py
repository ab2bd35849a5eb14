"""Questions asked in a thread: does an earlier question about another story get in the way?

    .venv/bin/python -m bench.threads                  # needs bench.quality's cached index
    .venv/bin/python -m bench.threads --json

In Discord a conversation continues in a thread, and the terminal chat is one conversation
until /new; a thread's earlier questions are passed to `Newsdesk.ask` as its history. Each
natural-dev question is asked twice: alone, and in a thread whose earlier question is about
another story (the question half the set away). Printed for both: correct, wrongly abstains
and abstains on the unanswerable (the scoring of bench/quality.py's natural pass), and how
many questions read as follow-ups (`reads_as_follow_up`). A question that stands alone should
come out the same in a thread: when every question was read with its thread, natural correct
fell from 0.767 alone to 0.258 in a thread.
"""

from __future__ import annotations

import json
from typing import Annotated

import typer

from bench import tune
from bench.console import err, out
from bench.natural import load_natural, natural_figures, outcome_of
from retrieval.question import reads_as_follow_up

app = typer.Typer(add_completion=False, pretty_exceptions_enable=False)


@app.command()
def main(as_json: Annotated[bool, typer.Option("--json")] = False) -> None:
    _, desk = tune.cached_desk(False)
    questions = load_natural()
    considered = desk.composer.options.passages_considered
    alone, threaded = [], []
    with err.status("asking") as status:
        for n, q in enumerate(questions):
            status.update(f"natural questions {n + 1}/{len(questions)}")
            earlier = questions[(n + len(questions) // 2) % len(questions)]
            alone.append(outcome_of(q, desk.ask(q.text, as_of=q.as_of), 0.0, considered))
            threaded.append(outcome_of(q, desk.ask(q.text, as_of=q.as_of, history=[earlier.text]), 0.0, considered))
    report = {"questions": len(questions), "read_as_follow_ups": sum(reads_as_follow_up(q.text) for q in questions),
              "alone": natural_figures(alone), "in_a_thread": natural_figures(threaded),
              "answers_differ": sum(a.answer != t.answer for a, t in zip(alone, threaded))}
    if as_json:
        print(json.dumps(report, indent=2))
        return
    out.print(f"{report['questions']} natural-dev questions, {report['read_as_follow_ups']} read as follow-ups; "
              f"{report['answers_differ']} answered differently in a thread")
    for name in ("alone", "in_a_thread"):
        r = report[name]
        out.print(f"{name:>12}: correct {r['correct']:.3f}, wrongly abstains {r['wrongly_abstains']:.3f}, "
                  f"abstains on the unanswerable {r['abstains_unanswerable']:.3f}")


if __name__ == "__main__":
    app()
