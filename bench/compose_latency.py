"""How long the offline composer takes, with the shipped options and with others, in one run.

    .venv/bin/python -m bench.compose_latency --baseline "dense_candidates=12"
    .venv/bin/python -m bench.compose_latency --quick --rounds 5 --baseline "passages_considered=8"

The composer is most of an `ask` (it embeds the question with its best sentences). Timings
on shared machines drift, so the settings are timed interleaved on the same passages: each
question's passages are retrieved once from bench.quality's cached index, then every
setting composes an answer from them in turn, for a few rounds. It prints the median and
p95 per setting and the ratio to the baseline; nothing is memoised.
"""

from __future__ import annotations

import dataclasses
import statistics
import time
from typing import Annotated

import typer
from rich.table import Table

from bench.console import out
from bench.metrics import percentile
from bench.report import code_state
from bench.tune import cached_desk, grid, offline_composer
from retrieval.config import ASK_PASSAGES

app = typer.Typer(add_completion=False, pretty_exceptions_enable=False)


@app.command()
def main(baseline: Annotated[str, typer.Option(help="ComposerOptions to compare with, e.g. 'dense_candidates=12'")],
         quick: Annotated[bool, typer.Option("--quick", help="The first 2 weeks' questions only.")] = False,
         rounds: Annotated[int, typer.Option(min=1, help="Times each setting answers each question.")] = 3) -> None:
    questions, desk = cached_desk(quick)
    (compared,) = grid(baseline)
    composers = {"shipped": desk.composer,
                 f"baseline {compared}": offline_composer(desk, dataclasses.replace(desk.composer.options, **compared),
                                                                  desk.composer.answer_model)}
    asked = []
    for q in questions:
        hints = desk.time_hints(q.text, q.date)
        asked.append((q.text, desk.searcher.search(q.text, k=ASK_PASSAGES, as_of=q.date, hints=hints),
                      hints.recent_since()))
    desk.composer.compose(*asked[0][:2])  # the first call loads the model: not timed

    times: dict[str, list[float]] = {label: [] for label in composers}
    for _ in range(rounds):
        for question, passages, recent_since in asked:
            for label, composer in composers.items():
                started = time.perf_counter()
                composer.compose(question, passages, recent_since=recent_since)
                times[label].append((time.perf_counter() - started) * 1000)

    reference = statistics.median(times[f"baseline {compared}"])
    table = Table(title=f"compose latency: {len(questions)} questions × {rounds} rounds, interleaved "
                        f"({code_state()})")
    for column in ("setting", "median ms", "p95 ms", "median / baseline"):
        table.add_column(column, justify="right")
    for label, values in times.items():
        median = statistics.median(values)
        table.add_row(label, f"{median:.1f}", f"{percentile(values, 95):.1f}", f"{median / reference:.2f}")
    out.print(table)


if __name__ == "__main__":
    app()
