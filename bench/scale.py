"""How Newsdesk grows with the archive: synthetic archives of 10k, 100k (and 1M) chunks.

    .venv/bin/python -m bench.scale                        # 10k and 100k chunks
    .venv/bin/python -m bench.scale --sizes 10000 --asks 30
    .venv/bin/python -m bench.scale --sizes 1000000 --keep /big/disk/scale   # needs ~2 GB RAM, long

Embedding a million chunks with the real model would take a day on 2 cores, so the archive's
chunks get synthetic vectors: each text's words hashed into 384 dimensions (a bag of words,
normalised), so that a chunk is close to a question that shares its words, as with the real
model. Everything else is real: the articles (Zipf-distributed words, names and numbers in
sentences of news length, dates over three years) are written to a JSON Lines file and
indexed by the real Indexer, chunker, Chroma and BM25 index.

Asking uses the real ONNX model for what a question costs: the question is embedded with it
(its vector is thrown away, and the hashed one searched, so that the synthetic index finds
something), and the composer embeds the question with its best sentences with it. The
composer's off-topic gate is off (`min_similarity=0`), so every ask composes.

For each size it prints: the time to index (synthetic vectors, so mostly Chroma and
chunking), the disk used (Chroma, BM25), the BM25 build and load times, a no-op re-index
(every article read and compared, nothing written), `ask` p50/p95 in a warm process
(retrieve + compose), and process start to first answer with its peak RSS (a fresh process
that loads the index and asks once).
"""

from __future__ import annotations

import datetime as dt
import gzip
import json
import math
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import zlib
from pathlib import Path
from typing import Annotated

import numpy as np
import typer
from langchain_core.embeddings import Embeddings

from retrieval.answers import ComposerOptions
from retrieval.chunking import Chunker
from retrieval.config import DEFAULT_MODEL, RetrievalSettings
from retrieval.embeddings import build_embeddings
from retrieval.indexer import Indexer
from retrieval.lexical import LexicalIndex, words
from retrieval.service import build_newsdesk
from retrieval.store import ChunkStore, embedded_client

ROOT = Path(__file__).resolve().parent.parent
DIMS = 384
app = typer.Typer(add_completion=False, pretty_exceptions_enable=False)


class HashedWords(Embeddings):
    """A text's lower-cased words hashed into 384 dimensions, normalised: cosine ~ shared words."""

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        return [self._embed(t) for t in texts]

    def embed_query(self, text: str) -> list[float]:
        return self._embed(text)

    @staticmethod
    def _embed(text: str) -> list[float]:
        counts = np.bincount([zlib.crc32(w.encode()) % DIMS for w in words(text)], minlength=DIMS).astype(np.float32)
        return (counts / (np.linalg.norm(counts) or 1.0)).tolist()


class CostedQueries(Embeddings):
    """Questions pay the real model's cost but search with the hashed vector; the composer's
    sentences are embedded by the real model."""

    def __init__(self, real: Embeddings):
        self.real = real
        self.hashed = HashedWords()

    def embed_query(self, text: str) -> list[float]:
        self.real.embed_query(text)
        return self.hashed.embed_query(text)

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        return self.real.embed_documents(texts)


def synthetic_articles(chunks_wanted: int, seed: int = 14):
    """Articles of ~3,700 characters (~6 chunks) until about `chunks_wanted` chunks."""
    rng = np.random.default_rng(seed)
    syllables = np.array(["ba", "ko", "ri", "tan", "mel", "sor", "vi", "den", "lu", "par", "gon", "es", "tri", "al",
                          "mo", "zen"])
    vocab = rng.permutation(sorted({"".join(rng.choice(syllables, size=rng.integers(2, 5))) for _ in range(60000)}))
    names = np.array([w.capitalize() for w in rng.choice(vocab, size=4000, replace=False)])
    cdf = np.cumsum(1.0 / np.arange(1, len(vocab) + 1) ** 1.1)
    cdf /= cdf[-1]
    start = dt.date(2021, 1, 1)
    made, n = 0, 0
    while made < chunks_wanted:
        lengths = rng.integers(12, 30, size=17)  # 17 sentences of 12-29 words
        picked = vocab[np.searchsorted(cdf, rng.random(int(lengths.sum())))].astype(object)
        sentences, at = [], 0
        for length in lengths:
            sentence = picked[at:at + length]
            at += length
            sentence[rng.integers(length)] = names[rng.integers(len(names))]  # one name a sentence
            if rng.random() < 0.4:
                sentence[rng.integers(length)] = str(int(rng.integers(2, 5000)))  # and often a number
            sentences.append(" ".join(sentence).capitalize() + ".")
        text = " ".join(sentences)
        made += max(1, math.ceil((len(text) - 120) / 680))
        n += 1
        yield {"id": f"syn-{n:07d}", "title": " ".join(rng.choice(names, size=4)), "source": "Synthetic Wire",
               "date": (start + dt.timedelta(days=int(rng.integers(0, 1095)))).isoformat(),
               "url": f"https://example.invalid/{n}", "text": text}


def questions_from(path: Path, count: int, seed: int = 41) -> list[str]:
    """Questions made of six words of a sentence of a random article."""
    rng = np.random.default_rng(seed)
    with gzip.open(path, "rt", encoding="utf-8") as handle:
        articles = [json.loads(line)["text"] for _, line in zip(range(5000), handle)]
    asked = []
    for _ in range(count):
        sentences = articles[rng.integers(len(articles))].split(". ")
        picked = sentences[rng.integers(len(sentences))].split()
        asked.append("What about " + " ".join(rng.choice(picked, size=min(6, len(picked)), replace=False)) + "?")
    return asked


def du(path: Path) -> float:
    """MB on disk under `path`."""
    return sum(p.stat().st_blocks * 512 for p in path.rglob("*") if p.is_file()) / 1e6


def settings_for(data_dir: Path) -> RetrievalSettings:
    return RetrievalSettings(_env_file=None, newsdesk_data_dir=data_dir, chroma_host=None, llm_provider="none",
                             embedding_backend="auto")


def timed(call):
    started = time.perf_counter()
    result = call()
    return result, time.perf_counter() - started


def one_size(chunks_wanted: int, folder: Path, asks: int, export_from: Path | None) -> dict:
    data_dir, articles = folder / "data", folder / "articles.jsonl.gz"
    folder.mkdir(parents=True, exist_ok=True)
    with gzip.open(articles, "wt", encoding="utf-8") as handle:
        for article in synthetic_articles(chunks_wanted):
            handle.write(json.dumps(article) + "\n")
    settings = settings_for(data_dir)
    hashed = HashedWords()
    store = ChunkStore(embedded_client(data_dir / "chroma"), hashed, model_name=DEFAULT_MODEL)
    report, index_s = timed(lambda: Indexer(store, Chunker(), hashed, batch_size=1000).run([articles]))
    store.mark_changed()
    # No copy folding and no answer model (model_weight 0): the parts these figures were measured with.
    settings = settings.model_copy(update={"fold_copies": False})
    desk = build_newsdesk(settings, embeddings=hashed, store=store)
    chunks, read_s = timed(store.all_chunks)
    lexical, build_s = timed(lambda: LexicalIndex.build(
        [c.id for c in chunks], [f"{c.metadata.get('title', '')}\n{c.text}" for c in chunks],
        [int(c.metadata.get("date_num", 0)) for c in chunks], "", store.generation()))
    del chunks
    bm25_dir = data_dir / "bm25" / store.collection_name  # where Newsdesk keeps its copy
    lexical.save(bm25_dir)
    _, load_s = timed(lambda: LexicalIndex.load(bm25_dir))
    desk = build_newsdesk(settings, embeddings=hashed, store=store)
    desk.lexical.current()  # takes the saved copy (it carries the store's generation)
    noop, noop_s = timed(lambda: desk.index([articles]))
    assert noop.chunks_embedded == 0 and not noop.changed, noop

    if export_from is not None:  # the model's ONNX export, made once for all sizes
        shutil.copytree(export_from, data_dir / "models", dirs_exist_ok=True)
    real = build_embeddings(DEFAULT_MODEL, data_dir)
    asker = build_newsdesk(settings, embeddings=CostedQueries(real), store=store,
                           composer_options=ComposerOptions(min_similarity=0.0, model_weight=0.0))
    questions = questions_from(articles, asks + 1)
    asker.ask(questions[0])  # loads the model and the BM25 copy: not timed
    times, abstained = [], 0
    for question in questions[1:]:
        answer, seconds = timed(lambda: asker.ask(question))
        times.append(seconds * 1000)
        abstained += answer.abstained

    first_s, first_rss = first_answer(data_dir, questions[1])
    return {"chunks": report.chunks_embedded, "articles": report.added, "index_s": index_s,
            "chroma_mb": du(data_dir / "chroma"), "bm25_mb": du(data_dir / "bm25"), "read_s": read_s,
            "bm25_build_s": build_s, "bm25_load_s": load_s, "noop_index_s": noop_s,
            "ask_p50_ms": statistics.median(times), "ask_p95_ms": float(np.percentile(times, 95)),
            "abstained": abstained, "asks": len(times), "first_answer_s": first_s, "first_answer_rss_mb": first_rss}


FIRST_ANSWER = """
import sys
from pathlib import Path
from bench.scale import CostedQueries, settings_for
from retrieval.answers import ComposerOptions
from retrieval.embeddings import build_embeddings
from retrieval.service import build_newsdesk
from retrieval.store import ChunkStore, embedded_client
data_dir = Path(sys.argv[1])
settings = settings_for(data_dir).model_copy(update={"fold_copies": False})
queries = CostedQueries(build_embeddings(settings.embedding_model, data_dir))
store = ChunkStore(embedded_client(data_dir / "chroma"), queries, model_name=settings.embedding_model)
desk = build_newsdesk(settings, embeddings=queries, store=store,
                      composer_options=ComposerOptions(min_similarity=0.0, model_weight=0.0))
desk.ask(sys.argv[2])
# VmHWM, not wait4's ru_maxrss, which carries over the forking parent's peak.
print(next(line.split()[1] for line in open("/proc/self/status") if line.startswith("VmHWM")))
"""


def first_answer(data_dir: Path, question: str) -> tuple[float, float]:
    """Process start to first answer, and the process's peak RSS (MB)."""
    started = time.perf_counter()
    # `-c` in the checkout (cwd=ROOT) imports this checkout's bench and retrieval.
    done = subprocess.run([sys.executable, "-c", FIRST_ANSWER, str(data_dir), question], cwd=ROOT,
                          env={**os.environ, "HF_HUB_OFFLINE": "1"}, capture_output=True, text=True)
    seconds = time.perf_counter() - started
    if done.returncode:
        raise SystemExit(f"the first-answer process failed:\n{done.stderr}")
    return seconds, int(done.stdout.split()[-1]) / 1024


@app.command()
def main(sizes: Annotated[str, typer.Option(help="Comma-separated chunk counts.")] = "10000,100000",
         asks: Annotated[int, typer.Option(min=5, help="Questions timed per size.")] = 50,
         keep: Annotated[Path | None, typer.Option(help="Build under this folder and keep it (default: a temp dir).")] = None,
         ) -> None:
    root = keep or Path(tempfile.mkdtemp(prefix="newsdesk-scale-"))
    # The model's ONNX export, made once (it needs torch) and copied into each size's data dir.
    exporter = build_embeddings(DEFAULT_MODEL, root / "export")
    exporter.embed_query("export")
    export_from = root / "export" / "models"
    rows = []
    try:
        for size in (int(s) for s in sizes.split(",")):
            row = one_size(size, root / f"n{size}", asks, export_from)
            rows.append(row)
            print(json.dumps(row), flush=True)
    finally:
        if keep is None:
            shutil.rmtree(root, ignore_errors=True)
    print(f"\n{os.cpu_count()} CPUs, load average {' '.join(f'{x:.1f}' for x in os.getloadavg())}")
    header = ("chunks", "index s", "chroma MB", "bm25 MB", "bm25 build s", "bm25 load s", "no-op index s",
              "ask p50 ms", "ask p95 ms", "first answer s", "its peak MB")
    print(" | ".join(header))
    for r in rows:
        print(" | ".join(f"{v:.2f}" if isinstance(v, float) else str(v) for v in (
            r["chunks"], r["index_s"], r["chroma_mb"], r["bm25_mb"], r["bm25_build_s"], r["bm25_load_s"],
            r["noop_index_s"], r["ask_p50_ms"], r["ask_p95_ms"], r["first_answer_s"], r["first_answer_rss_mb"])))


if __name__ == "__main__":
    app()
