"""Embedding throughput, ONNX export against sentence-transformers, in one process, interleaved.

    .venv/bin/python -m bench.embed_throughput                  # 192 dev-set chunks, 3 rounds
    .venv/bin/python -m bench.embed_throughput --chunks 512 --rounds 5

Which path should ingest take? Both embed the same real chunks (the first articles of
`../shared/eval/realtimeqa-dev/articles.jsonl.gz`, read by path, cut by the real chunker, with
their titles as the indexer embeds them; else the seed articles), in bulk (batches of 32) and
as single questions (each asked once untimed first: sentence-transformers takes ~0.4 s on
the first call of each new input length), for a few interleaved rounds. It prints chunks per second and
milliseconds per question (medians), and the lowest cosine between the two paths' vectors.
"""

from __future__ import annotations

import gzip
import json
import statistics
import tempfile
import time
from pathlib import Path
from typing import Annotated

import numpy as np
import typer

from retrieval.chunking import Chunker
from retrieval.config import DEFAULT_MODEL
from retrieval.embeddings import LazyEmbeddings, build_embeddings
from retrieval.indexer import match_text
from retrieval.ingest import iter_articles
from retrieval.models import Article
from retrieval.onnx_embeddings import OnnxEmbeddings

ROOT = Path(__file__).resolve().parent.parent
DEV_ARTICLES = ROOT.parent / "shared" / "eval" / "realtimeqa-dev" / "articles.jsonl.gz"
app = typer.Typer(add_completion=False, pretty_exceptions_enable=False)


def chunk_texts(count: int) -> list[str]:
    if DEV_ARTICLES.is_file():
        with gzip.open(DEV_ARTICLES, "rt", encoding="utf-8") as handle:
            articles = [Article(id=str(i), text=r["text"], title=r.get("title", ""))
                        for i, r in ((i, json.loads(line)) for i, line in zip(range(count), handle))]
    else:
        articles = [a for a in iter_articles([ROOT / "seeds"]) if isinstance(a, Article)]
    chunker = Chunker()
    texts = [match_text(a, c) for a in articles for c in chunker.split(a)]
    return (texts * (count // max(len(texts), 1) + 1))[:count]


@app.command()
def main(chunks: Annotated[int, typer.Option(min=8, help="Chunks embedded per round.")] = 192,
         rounds: Annotated[int, typer.Option(min=1)] = 3,
         questions: Annotated[int, typer.Option(min=1, help="Single questions timed per round.")] = 30) -> None:
    texts = chunk_texts(chunks)
    with tempfile.TemporaryDirectory() as tmp:
        # The model itself (`chosen`), not the wrapper that keeps the last questions' vectors.
        onnx = build_embeddings(DEFAULT_MODEL, Path(tmp)).chosen
        if not isinstance(onnx, OnnxEmbeddings):
            raise typer.BadParameter("the model could not be exported to ONNX here")
        paths = {"onnx": onnx, "torch": LazyEmbeddings(DEFAULT_MODEL)}
        asked = [" ".join(text.split()[:10]) + "?" for text in texts[:questions]]
        for embeddings in paths.values():  # load (and export) before timing; torch is slow on
            embeddings.embed_documents(texts[:2])  # the first call of each new input length
            for question in asked:
                embeddings.embed_query(question)
        rates: dict[str, list[float]] = {name: [] for name in paths}
        singles: dict[str, list[float]] = {name: [] for name in paths}
        vectors = {}
        for _ in range(rounds):
            for name, embeddings in paths.items():
                started = time.perf_counter()
                vectors[name] = np.asarray(embeddings.embed_documents(texts))
                rates[name].append(len(texts) / (time.perf_counter() - started))
                for question in asked:
                    started = time.perf_counter()
                    embeddings.embed_query(question)
                    singles[name].append((time.perf_counter() - started) * 1000)
    source = DEV_ARTICLES.name if DEV_ARTICLES.is_file() else "seeds/"
    print(f"{len(texts)} chunks from {source}, {rounds} rounds, interleaved")
    for name in paths:
        print(f"{name:<6} bulk {statistics.median(rates[name]):6.1f} chunks/s   "
              f"single question {statistics.median(singles[name]):6.1f} ms")
    print(f"lowest cosine between the paths' vectors: {float(np.min(np.sum(vectors['onnx'] * vectors['torch'], axis=1))):.7f}")


if __name__ == "__main__":
    app()
