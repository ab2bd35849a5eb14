"""How Newsdesk grows with the archive: synthetic archives of 10k, 100k and 1M chunks.

    HF_HUB_OFFLINE=1 nice -n 19 .venv/bin/python -m bench.scale --dev-index DIR     # 10k and 100k
    HF_HUB_OFFLINE=1 nice -n 19 .venv/bin/python -m bench.scale --dev-index DIR --sizes 1000000 \
        --cache /big/disk/scale-cache                                                  # built once, long

The archives are made from the dev set's articles (../shared/eval/realtimeqa-dev) and the
vectors of its index (`--dev-index`: a data directory the quality benchmark built, whose
46,811 chunk vectors the real model computed). Up to the dev set's size the archive is the
dev articles themselves, with their real vectors. Past it, each further article recombines
the paragraphs of two dev articles (most of one, a few of another, in a shuffled order,
under the first one's title and a date moved by up to two years); its chunks get stand-in
vectors: the sum of the real vectors of the dev chunks their paragraphs come from, plus a
little noise, normalised (embedding a million chunks with the model would take a day on 2
cores). The output says how many chunks got which. Everything else is real: the articles
go through a JSON Lines file, the real Indexer and chunker, Chroma and the BM25 index; the
questions are the dev set's, embedded with the real (ONNX) model, and composed with it.

Each size is built once and kept under `--cache` (a re-run reuses it). For each it prints:
the build time (stand-in vectors, so mostly chunking and Chroma), the disk used (Chroma,
BM25), the BM25 build (from a paged read of the store) and its memory-mapped load, the first
re-index of 1,000 unchanged articles after a build by an older version (a full metadata
scan) and the next one (article records only), `ask` p50/p95 in a warm process (retrieve +
compose; the composer's off-topic gate is off, so every ask composes), and process start to
first answer (`newsdesk ask` in a fresh process) with its peak RSS. With `--server` it also
asks through a `chroma run` server over the same data.
"""

from __future__ import annotations

import datetime as dt
import gzip
import hashlib
import json
import os
import random
import shutil
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass, field
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
from retrieval.service import Newsdesk
from retrieval.store import ChunkStore, embedded_client, server_client

ROOT = Path(__file__).resolve().parent.parent
DEV_SET = ROOT.parent / "shared" / "eval" / "realtimeqa-dev"
DIMS = 384
NOISE = 0.15  # the norm of the noise added to a stand-in vector's unit-length sum
app = typer.Typer(add_completion=False, pretty_exceptions_enable=False)


@dataclass
class DevPool:
    """The dev set's articles and the real vectors of its index's chunks."""

    articles: list[dict]
    vectors: np.ndarray  # one real vector a row
    exact: dict[str, int]  # sha1 of a chunk's match text -> its row
    paragraphs: dict[str, int]  # a paragraph -> the row of the first chunk holding it whole
    by_title: dict[str, int]  # an article's title -> the row of its first chunk

    @classmethod
    def load(cls, dev_index: Path, dataset: Path = DEV_SET) -> DevPool:
        import chromadb

        with gzip.open(dataset / "articles.jsonl.gz", "rt", encoding="utf-8") as handle:
            articles = [json.loads(line) for line in handle]
        client = chromadb.PersistentClient(path=str(dev_index / "chroma"),
                                           settings=chromadb.Settings(anonymized_telemetry=False))
        collection = client.get_collection("newsdesk")
        rows, texts, metas, offset = [], [], [], 0
        while True:
            got = collection.get(include=["embeddings", "documents", "metadatas"], limit=5000, offset=offset)
            rows.append(np.asarray(got["embeddings"], dtype=np.float32))
            texts += got["documents"]
            metas += got["metadatas"]
            if len(got["ids"]) < 5000:
                break
            offset += 5000
        pool = cls(articles, np.concatenate(rows), {}, {}, {})
        for row, (text, meta) in enumerate(zip(texts, metas)):
            title = meta.get("title", "")
            pool.exact[_key(f"{title}\n{text}" if title else text)] = row
            pool.by_title.setdefault(title, row)
            for paragraph in text.split("\n\n"):
                if len(paragraph) > 40:
                    pool.paragraphs.setdefault(paragraph.strip(), row)
        return pool


def _key(text: str) -> str:
    return hashlib.sha1(text.encode()).hexdigest()


@dataclass
class StandIns(Embeddings):
    """The real vector of a chunk the dev index holds; for any other, the sum of the real
    vectors of the dev chunks its paragraphs come from, plus noise, normalised."""

    pool: DevPool
    counts: dict[str, int] = field(default_factory=lambda: {"real": 0, "stand-in": 0})

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        return [self._one(t) for t in texts]

    def embed_query(self, text: str) -> list[float]:
        return self._one(text)

    def _one(self, text: str) -> list[float]:
        row = self.pool.exact.get(_key(text))
        if row is not None:
            self.counts["real"] += 1
            return self.pool.vectors[row].tolist()
        self.counts["stand-in"] += 1
        title, _, body = text.partition("\n")
        rows = [self.pool.paragraphs[p.strip()] for p in body.split("\n\n") if p.strip() in self.pool.paragraphs]
        if not rows:  # a piece of a paragraph longer than a chunk: its article's first chunk
            rows = [self.pool.by_title.get(title, 0)]
        total = self.pool.vectors[rows].sum(axis=0)
        total /= np.linalg.norm(total) or 1.0
        rng = np.random.default_rng(int(_key(text)[:8], 16))
        noise = rng.standard_normal(DIMS).astype(np.float32)
        total += NOISE * noise / np.linalg.norm(noise)
        return (total / np.linalg.norm(total)).tolist()


def synthetic_articles(pool: DevPool, chunks_wanted: int, seed: int = 14):
    """The dev articles, then recombinations of them, until about `chunks_wanted` chunks."""
    rng = random.Random(seed)
    made, n = 0, 0
    while made < chunks_wanted:
        base = pool.articles[n % len(pool.articles)]
        if n < len(pool.articles):
            article = dict(base)
        else:
            other = pool.articles[rng.randrange(len(pool.articles))]
            mine = [p for p in base["text"].split("\n\n") if p.strip()]
            theirs = [p for p in other["text"].split("\n\n") if p.strip()]
            kept = rng.sample(mine, max(1, int(len(mine) * rng.uniform(0.6, 0.9))))
            kept += rng.sample(theirs, min(len(theirs), rng.randint(1, 3)))
            rng.shuffle(kept)
            date = base.get("date") or "2022-06-01"
            moved = dt.date.fromisoformat(date[:10]) + dt.timedelta(days=rng.randint(-730, 730))
            article = {"id": f"syn-{n:07d}", "title": base.get("title", ""), "source": base.get("source", ""),
                       "date": moved.isoformat(), "url": f"https://example.invalid/{n}", "text": "\n\n".join(kept)}
        made += max(1, round(len(article["text"]) / 566))  # the dev set averages 566 characters a chunk
        n += 1
        yield article


def build(size: int, folder: Path, pool: DevPool) -> dict:
    """The archive of about `size` chunks in `folder`, built once: what the build reported."""
    built = folder / "built.json"
    if built.exists():
        return json.loads(built.read_text())
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    articles = folder / "articles.jsonl.gz"
    with gzip.open(articles, "wt", encoding="utf-8") as handle:
        for article in synthetic_articles(pool, size):
            handle.write(json.dumps(article) + "\n")
    vectors = StandIns(pool)
    store = ChunkStore(embedded_client(folder / "data" / "chroma"), vectors, model_name=DEFAULT_MODEL)
    started = time.perf_counter()
    last = [started]

    def progress(done: int, total: int) -> None:
        if time.perf_counter() - last[0] > 60 or done == total:
            last[0] = time.perf_counter()
            print(f"  built {done:,} of {total:,} chunks in {last[0] - started:.0f} s", file=sys.stderr, flush=True)

    report = Indexer(store, Chunker(), vectors, batch_size=1000).run([articles], progress=progress)
    summary = {"chunks": report.chunks_embedded, "articles": report.added, "build_s": time.perf_counter() - started,
               "real_vectors": vectors.counts["real"], "stand_in_vectors": vectors.counts["stand-in"]}
    built.write_text(json.dumps(summary))
    return summary


def questions(count: int, seed: int = 41, dataset: Path = DEV_SET) -> list[str]:
    """`count` of the dev set's questions, drawn at random."""
    with open(dataset / "questions.jsonl", encoding="utf-8") as handle:
        asked = [json.loads(line)["question"] for line in handle]
    return random.Random(seed).sample(asked, min(count, len(asked)))


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
    desk = Newsdesk(store, hashed, data_dir=data_dir)
    chunks, read_s = timed(store.all_chunks)
    lexical, build_s = timed(lambda: LexicalIndex.build(
        [c.id for c in chunks], [f"{c.metadata.get('title', '')}\n{c.text}" for c in chunks],
        [int(c.metadata.get("date_num", 0)) for c in chunks], "", store.generation()))
    del chunks
    bm25_dir = data_dir / "bm25" / store.collection_name  # where Newsdesk keeps its copy
    lexical.save(bm25_dir)
    _, load_s = timed(lambda: LexicalIndex.load(bm25_dir))
    desk = Newsdesk(store, hashed, data_dir=data_dir)
    desk.lexical_index()  # takes the saved copy (it carries the store's generation)
    noop, noop_s = timed(lambda: desk.index([articles]))
    assert noop.chunks_embedded == 0 and not noop.changed, noop

    if export_from is not None:  # the model's ONNX export, made once for all sizes
        shutil.copytree(export_from, data_dir / "models", dirs_exist_ok=True)
    real = build_embeddings(DEFAULT_MODEL, data_dir)
    asker = Newsdesk(store, CostedQueries(real), data_dir=data_dir,
                     composer_options=ComposerOptions(min_similarity=0.0))
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
sys.path.insert(0, sys.argv[1])
from pathlib import Path
from bench.scale import CostedQueries, settings_for
from retrieval.answers import ComposerOptions
from retrieval.embeddings import build_embeddings
from retrieval.service import Newsdesk
from retrieval.store import ChunkStore, embedded_client
data_dir = Path(sys.argv[2])
settings = settings_for(data_dir)
queries = CostedQueries(build_embeddings(settings.embedding_model, data_dir))
store = ChunkStore(embedded_client(data_dir / "chroma"), queries, model_name=settings.embedding_model)
desk = Newsdesk(store, queries, data_dir=data_dir, composer_options=ComposerOptions(min_similarity=0.0))
desk.ask(sys.argv[3])
# VmHWM, not wait4's ru_maxrss, which carries over the forking parent's peak.
print(next(line.split()[1] for line in open("/proc/self/status") if line.startswith("VmHWM")))
"""


def first_answer(data_dir: Path, question: str) -> tuple[float, float]:
    """Process start to first answer, and the process's peak RSS (MB)."""
    started = time.perf_counter()
    done = subprocess.run([sys.executable, "-c", FIRST_ANSWER, str(ROOT), str(data_dir), question],
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
