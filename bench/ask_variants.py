"""`ask` latency as shipped and with parts of it as they were, timed in one run.

    .venv/bin/python -m bench.ask_variants                          # needs bench.quality's cached index
    .venv/bin/python -m bench.ask_variants --baseline spinning --questions 60 --rounds 3

Each baseline undoes one speed-up of the offline path, and must change nothing but time:
- `spinning`: ONNX Runtime's idle threads spin after each run, its default. An `ask` runs two
  ONNX models in turn (the embedding export and the answer model), with Chroma and NumPy
  between them; the shipped sessions let idle threads sleep (`retrieval.onnx_embeddings.cpu_session`).
- `unbatched`: the embedding export runs one text at a time (shipped: 4, the longest
  together), and the composer embeds the question again instead of taking the vector the
  search kept (`retrieval.embeddings.ModelEmbeddings`).
- `by-doc-id`: the best article, read whole, is found by its `doc_id` in the chunks'
  metadata (shipped: read by the chunk ids its record lists, `ChunkStore.chunks_of`).
- `fetch-150`: dense search fetches 150 chunks to filter by date even when no article is
  dated after the question (shipped: 50 then; `Searcher._dense`). Only questions asked as of
  a day after the archive's newest article show it: pass `--today`, as Discord asks.

Each question of the dev sets (RealTimeQA's and natural-dev's, alternating) is asked through
the whole offline path by every setting in turn, so that all meet the same drift of a shared
machine; which setting asks first turns from question to question. It prints the median, p95 and mean per
setting and the ratio to the shipped one, and checks that every setting gave the same answers.
"""

from __future__ import annotations

import datetime as dt
import statistics
import time
from collections.abc import Callable
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
from retrieval.search import article_reader, passage_from
from retrieval.service import Newsdesk, build_newsdesk

app = typer.Typer(add_completion=False, pretty_exceptions_enable=False)

BASELINES = ("spinning", "unbatched", "by-doc-id", "fetch-150")


class NoNewest:
    """The BM25 copy, telling no newest date: dense search over-fetches for every dated
    question, as it did before session 19."""

    def __init__(self, current):
        self.current = current

    def __call__(self):
        return self

    def __getattr__(self, name):
        return getattr(self.current(), name)

    def newest(self) -> int:
        return 99_999_999


def by_doc_id(desk: Newsdesk):
    """An article's passages found by its `doc_id`, as `ChunkStore.chunks_of` did before session 19."""
    return lambda doc_id: [passage_from(chunk, 0.0, None, retrieved=False)
                           for chunk in desk.store.chunks_by_doc_id(doc_id)]


def configurations(desk: Newsdesk) -> dict[str, Callable[[], None]]:
    """For each setting, a function that puts it in place on `desk` (same models, loaded once
    per setting: the classes load their sessions lazily into `_session`)."""
    embeddings, answer_model = desk.embeddings, desk.composer.answer_model
    onnx = embeddings.chosen
    if not hasattr(onnx, "onnx_path") or answer_model is None:
        raise typer.BadParameter("the offline path with the ONNX embedding export and the answer model is needed")
    sessions = {spinning: (cpu_session(onnx.onnx_path, spinning=spinning),
                           cpu_session(answer_model.folder / "model.onnx", spinning=spinning))
                for spinning in (False, True)}
    shipped_batch, shipped_kept = onnx.batch_size, embeddings.QUERIES_KEPT
    lexical = desk.searcher._lexical
    readers = {False: article_reader(desk.store), True: by_doc_id(desk)}

    def setting(spinning: bool = False, batch: int = shipped_batch, kept: int = shipped_kept,
                doc_id: bool = False, fetch_150: bool = False) -> Callable[[], None]:
        def put_in_place() -> None:
            onnx._session, answer_model._session = sessions[spinning]
            onnx.batch_size, embeddings.QUERIES_KEPT = batch, kept
            embeddings._queries.clear()  # each setting embeds each question afresh
            desk.composer.article_passages = readers[doc_id]
            desk.searcher._lexical = NoNewest(lexical) if fetch_150 else lexical
        return put_in_place

    return {"shipped": setting(), "spinning": setting(spinning=True), "unbatched": setting(batch=1, kept=0),
            "by-doc-id": setting(doc_id=True), "fetch-150": setting(fetch_150=True)}


@app.command()
def main(baseline: Annotated[list[str] | None, typer.Option(help=f"the settings compared, of {', '.join(BASELINES)} "
                                                            "(repeatable; default all)")] = None,
         questions: Annotated[int, typer.Option(min=2, help="Questions asked per round, half from each set.")] = 120,
         rounds: Annotated[int, typer.Option(min=1, help="Times each setting answers each question.")] = 2,
         today: Annotated[bool, typer.Option("--today", help="Ask every question as of today, as Discord "
                                             "does, not as of its own day.")] = False) -> None:
    unknown = set(baseline or ()) - set(BASELINES)
    if unknown:
        raise typer.BadParameter(f"unknown baseline {', '.join(sorted(unknown))}: choose from {', '.join(BASELINES)}")
    desk = build_newsdesk(cached_index_settings(DEFAULT_DATASET.name))
    realtime = [(q.text, q.date) for q in load_questions(DEFAULT_DATASET)]
    natural = [(q.text, q.as_of) for q in load_natural()]
    asked = [pair for both in zip(realtime[: questions // 2], natural[: questions // 2]) for pair in both]
    if today:
        asked = [(question, dt.date.today()) for question, _ in asked]
    desk.ask(asked[0][0], as_of=asked[0][1])  # loads both models and the BM25 index: not timed

    every = configurations(desk)
    names = ["shipped", *(baseline or BASELINES)]
    times: dict[str, list[float]] = {name: [] for name in names}
    texts: dict[str, list[str]] = {name: [] for name in names}
    for round_ in range(rounds):
        for number, (question, as_of) in enumerate(asked):
            # Each setting goes first for its share of the questions: the first to ask a
            # question reads its chunks from disk, the others from the page cache.
            shift = (number + round_) % len(names)
            for name in names[shift:] + names[:shift]:
                every[name]()
                started = time.perf_counter()
                answer = desk.ask(question, as_of=as_of)
                times[name].append((time.perf_counter() - started) * 1000)
                if round_ == 0:
                    texts[name].append(answer.text)
    every["shipped"]()

    reference = statistics.median(times["shipped"])
    when = "as of today" if today else "each as of its own day"
    table = Table(title=f"ask latency: {len(asked)} questions ({when}) × {rounds} rounds, interleaved ({code_state()})")
    for column in ("setting", "median ms", "p95 ms", "mean ms", "median / shipped", "answers that differ"):
        table.add_column(column, justify="right")
    for name in names:
        values = times[name]
        differing = sum(a != b for a, b in zip(texts[name], texts["shipped"]))
        table.add_row(name, f"{statistics.median(values):.1f}", f"{percentile(values, 95):.1f}",
                      f"{statistics.mean(values):.1f}", f"{statistics.median(values) / reference:.2f}",
                      f"{differing} of {len(asked)}")
    out.print(table)


if __name__ == "__main__":
    app()
