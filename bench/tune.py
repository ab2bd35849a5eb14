"""Grid search over search and composer options on a cached benchmark index.

    .venv/bin/python -m bench.tune              # the whole dev set (needs bench.quality's cache)
    .venv/bin/python -m bench.tune --quick

Reuses bench/quality.py's dataset loading, metrics and index cache; nothing is re-embedded.
Sentence and query vectors are memoised, so each extra setting costs seconds. It prints one
row per setting; the defaults in retrieval/search.py and retrieval/answers.py are the ones
chosen from this table (see bench/RESULTS.md).
"""

from __future__ import annotations

import dataclasses
import functools
import itertools
from typing import Annotated

import typer
from langchain_core.embeddings import Embeddings
from rich.table import Table

from bench.console import out
from bench.dataset import DEFAULT_DATASET, QUICK_WEEKS, load_article_records, load_questions, quick_subset
from bench.index_cache import cached_index_settings
from bench.metrics import distinct, exact_option, gold_rank, retrieval_figures
from bench.passes import SEARCH_K
from retrieval.answers import Composer
from retrieval.search import SearchOptions, Searcher

app = typer.Typer(add_completion=False, pretty_exceptions_enable=False)


class MemoEmbeddings(Embeddings):
    """The real model, with every text embedded once per run."""

    def __init__(self, inner: Embeddings):
        self.inner = inner
        self.memo: dict[str, list[float]] = {}

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        missing = [t for t in dict.fromkeys(texts) if t not in self.memo]
        for text, vector in zip(missing, self.inner.embed_documents(missing)):
            self.memo[text] = vector
        return [self.memo[t] for t in texts]

    def embed_query(self, text: str) -> list[float]:
        return self.embed_documents([text])[0]


def retrieval_row(desk, questions) -> dict:
    ranks = [gold_rank(distinct(p.doc_id for p in desk.search(q.text, k=SEARCH_K, as_of=q.date)),
                       q.gold) for q in questions]
    return retrieval_figures(ranks)


def answer_row(desk, questions) -> dict:
    exact = cited = 0
    for q in questions:
        answer = desk.ask(q.text, as_of=q.date)
        exact += (not answer.abstained) and exact_option(answer.text, q)
        cited += any(c.doc_id in q.gold for c in answer.citations)
    return {"exact": exact / len(questions), "cited": cited / len(questions)}


def number(text: str) -> int | float:
    """'12' -> 12 (counts such as dense_candidates must stay ints), '0.5' -> 0.5."""
    try:
        return int(text)
    except ValueError:
        return float(text)


def grid(spec: str) -> list[dict]:
    """'a=1,2;b=0.5' -> [{'a': 1, 'b': 0.5}, {'a': 2, 'b': 0.5}]"""
    axes = []
    for part in filter(None, spec.split(";")):
        name, values = part.split("=")
        axes.append([(name.strip(), number(v)) for v in values.split(",")])
    return [dict(combo) for combo in itertools.product(*axes)] or [{}]


def cached_desk(quick: bool, *, memoise: bool = False):
    """The dev set's questions (the first weeks' only, when `quick`) and a Newsdesk over
    bench.quality's cached index of their articles, with the offline composer whatever
    .env says; with `memoise`, every text is embedded once per run."""
    from retrieval.embeddings import LazyEmbeddings
    from retrieval.service import build_newsdesk

    questions = load_questions(DEFAULT_DATASET)
    name = DEFAULT_DATASET.name
    if quick:
        questions, _ = quick_subset(questions, load_article_records(DEFAULT_DATASET), QUICK_WEEKS)
        name = f"{name}-{QUICK_WEEKS}w"
    settings = cached_index_settings(name)
    embeddings = LazyEmbeddings(settings.embedding_model)
    desk = build_newsdesk(settings, embeddings=MemoEmbeddings(embeddings) if memoise else embeddings)
    if memoise:  # each article's passages read from the store once per run too
        desk.composer.article_passages = functools.cache(desk.composer.article_passages)
    return questions, desk


def offline_composer(desk, options, answer_model) -> Composer:
    """The offline composer as `desk` wires it (its idf, its store's articles), with these
    options and this answer model."""
    return Composer(desk.embeddings, options, idf=desk.lexical.idf, answer_model=answer_model,
                    article_passages=desk.composer.article_passages)


@app.command()
def main(quick: Annotated[bool, typer.Option("--quick")] = False,
         search: Annotated[str, typer.Option(help="SearchOptions grid, e.g. 'recency_weight=0,0.5,1;window_weight=0,1'")] = "",
         compose: Annotated[str, typer.Option(help="ComposerOptions grid, e.g. 'relative_cutoff=0.6,0.8'")] = "") -> None:
    questions, desk = cached_desk(quick, memoise=True)
    embeddings, answer_model = desk.embeddings, desk.composer.answer_model

    table = Table(title=f"{len(questions)} questions")
    for column in ("search", "compose", "hit@1", "hit@5", "mrr@10", "exact", "cited"):
        table.add_column(column)
    for search_update in grid(search):
        searcher = Searcher(desk.store, embeddings, desk.lexical.current,
                            dataclasses.replace(SearchOptions(), **search_update))
        desk = desk.with_parts(searcher=searcher)
        r = retrieval_row(desk, questions)
        for compose_update in grid(compose) if compose else [None]:
            a = {"exact": float("nan"), "cited": float("nan")}
            if compose_update is not None:
                composer = offline_composer(desk, dataclasses.replace(desk.composer.options, **compose_update),
                                            answer_model)
                a = answer_row(desk.with_parts(composer=composer), questions)
            table.add_row(str(search_update), str(compose_update or ""), f"{r['hit@1']:.3f}", f"{r['hit@5']:.3f}",
                          f"{r['mrr@10']:.3f}", f"{a['exact']:.3f}", f"{a['cited']:.3f}")
    out.print(table)


if __name__ == "__main__":
    app()
