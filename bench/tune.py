"""Grid search over search and composer options on a cached benchmark index.

    .venv/bin/python bench/tune.py              # the whole dev set (needs bench/quality.py's cache)
    .venv/bin/python bench/tune.py --quick

Reuses bench/quality.py's dataset loading, metrics and index cache; nothing is re-embedded.
Sentence and query vectors are memoised, so each extra setting costs seconds. It prints one
row per setting; the defaults in retrieval/search.py and retrieval/answers.py are the ones
chosen from this table (see the README's Quality section).
"""

from __future__ import annotations

import dataclasses
import itertools
import sys
from pathlib import Path
from typing import Annotated

import typer
from langchain_core.embeddings import Embeddings
from rich.table import Table

sys.path.insert(0, str(Path(__file__).resolve().parent))
import quality  # noqa: E402  (a sibling script, not a package)

from retrieval.answers import Composer, ComposerOptions  # noqa: E402
from retrieval.config import RetrievalSettings  # noqa: E402
from retrieval.search import SearchOptions, Searcher  # noqa: E402

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
    ranks = [quality.gold_rank(quality.distinct(p.doc_id for p in desk.search(q.text, k=quality.SEARCH_K, as_of=q.date)),
                               q.gold) for q in questions]
    return quality.retrieval_figures(ranks)


def answer_row(desk, questions) -> dict:
    exact = cited = 0
    for q in questions:
        answer = desk.ask(q.text, as_of=q.date)
        exact += (not answer.abstained) and quality.exact_option(answer.text, q)
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
    bench/quality.py's cached index of their articles, with the offline composer whatever
    .env says; with `memoise`, every text is embedded once per run."""
    from retrieval.embeddings import LazyEmbeddings
    from retrieval.service import build_newsdesk

    questions = quality.load_questions(quality.DEFAULT_DATASET)
    name = quality.DEFAULT_DATASET.name
    if quick:
        questions, _ = quality.quick_subset(questions, quality.load_article_records(quality.DEFAULT_DATASET),
                                            quality.QUICK_WEEKS)
        name = f"{name}-{quality.QUICK_WEEKS}w"
    base = quality.bench_settings(RetrievalSettings(), llm=False)
    settings = base.model_copy(update={"newsdesk_data_dir": quality.CACHE_DIR / quality.cache_key(name, base),
                                       "chroma_host": None})
    if not (settings.data_dir / "chroma").is_dir():
        raise typer.BadParameter(f"no cached index at {settings.data_dir}: run bench/quality.py first")
    embeddings = LazyEmbeddings(settings.embedding_model)
    return questions, build_newsdesk(settings, embeddings=MemoEmbeddings(embeddings) if memoise else embeddings)


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
                composer = Composer(embeddings, dataclasses.replace(ComposerOptions(), **compose_update),
                                    idf=desk.lexical.idf, answer_model=answer_model)
                a = answer_row(desk.with_parts(composer=composer), questions)
            table.add_row(str(search_update), str(compose_update or ""), f"{r['hit@1']:.3f}", f"{r['hit@5']:.3f}",
                          f"{r['mrr@10']:.3f}", f"{a['exact']:.3f}", f"{a['cited']:.3f}")
    quality.out.print(table)


if __name__ == "__main__":
    app()
