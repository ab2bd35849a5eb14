"""`ask` latency with ONNX Runtime's idle threads sleeping (shipped) or spinning (its default).

    .venv/bin/python -m bench.onnx_spinning                 # needs bench.quality's cached index
    .venv/bin/python -m bench.onnx_spinning --questions 60 --rounds 3

An `ask` runs two ONNX models in turn, the embedding export and the answer model, with
Chroma and NumPy between them (`retrieval.onnx_embeddings.cpu_session`). Each question of the
dev sets (RealTimeQA's and natural-dev's, alternating) is asked through
the whole offline path, once with each setting's sessions, in an order that alternates
between rounds, so that both meet the same drift of a shared machine. It prints the
median, p95 and mean per setting and the ratio to the baseline (spinning), and checks that
both gave the same answers: a thread setting must change nothing but time.
"""

from __future__ import annotations

import statistics
import time
from typing import Annotated

import typer
from rich.table import Table

from bench.console import out
from bench.dataset import DEFAULT_DATASET, load_questions
from bench.index_cache import cached_index_settings
from bench.metrics import percentile
from bench.natural import load_natural
from bench.report import code_state
from retrieval.onnx_embeddings import cpu_session
from retrieval.service import build_newsdesk

app = typer.Typer(add_completion=False, pretty_exceptions_enable=False)


@app.command()
def main(questions: Annotated[int, typer.Option(min=2, help="Questions asked per round, half from each set.")] = 120,
         rounds: Annotated[int, typer.Option(min=1, help="Times each setting answers each question.")] = 2) -> None:
    desk = build_newsdesk(cached_index_settings(DEFAULT_DATASET.name))
    realtime = [(q.text, q.date) for q in load_questions(DEFAULT_DATASET)]
    natural = [(q.text, q.as_of) for q in load_natural()]
    asked = [pair for both in zip(realtime[: questions // 2], natural[: questions // 2]) for pair in both]
    desk.ask(asked[0][0], as_of=asked[0][1])  # loads both models and the BM25 index: not timed

    embeddings = desk.embeddings.chosen
    answer_model = desk.composer.answer_model
    if not hasattr(embeddings, "onnx_path") or answer_model is None:
        raise typer.BadParameter("the offline path with the ONNX embedding export and the answer model is needed")
    # The same models, loaded once per setting; each setting's sessions are swapped in before
    # it answers (the classes load theirs lazily into `_session`).
    sessions = {spinning: (cpu_session(embeddings.onnx_path, spinning=spinning),
                           cpu_session(answer_model.folder / "model.onnx", spinning=spinning))
                for spinning in (False, True)}
    label = {False: "idle threads sleep (shipped)", True: "idle threads spin (baseline)"}
    times: dict[bool, list[float]] = {False: [], True: []}
    texts: dict[bool, list[str]] = {False: [], True: []}
    for round_ in range(rounds):
        order = (False, True) if round_ % 2 == 0 else (True, False)
        for question, as_of in asked:
            for spinning in order:
                embeddings._session, answer_model._session = sessions[spinning]
                started = time.perf_counter()
                answer = desk.ask(question, as_of=as_of)
                times[spinning].append((time.perf_counter() - started) * 1000)
                if round_ == 0:
                    texts[spinning].append(answer.text)

    reference = statistics.median(times[True])
    table = Table(title=f"ask latency: {len(asked)} questions × {rounds} rounds, interleaved ({code_state()})")
    for column in ("ONNX Runtime threads", "median ms", "p95 ms", "mean ms", "median / baseline"):
        table.add_column(column, justify="right")
    for spinning in (True, False):
        values = times[spinning]
        table.add_row(label[spinning], f"{statistics.median(values):.1f}", f"{percentile(values, 95):.1f}",
                      f"{statistics.mean(values):.1f}", f"{statistics.median(values) / reference:.2f}")
    out.print(table)
    differing = sum(a != b for a, b in zip(texts[False], texts[True]))
    out.print(f"answers that differ between the settings: {differing} of {len(asked)}")


if __name__ == "__main__":
    app()
