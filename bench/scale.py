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
BM25), the BM25 build (from a paged read of the store) and its memory-mapped load, a
re-index of 1,000 unchanged articles after a write no run finished (which scans every
chunk's metadata, as every run did before) and after a clean run (article records only), `ask` p50/p95 in a warm process (retrieve +
compose, as shipped: the questions the archive cannot answer abstain, and are counted), and process start to
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
import resource
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

from retrieval.chunking import Chunker
from retrieval.config import DEFAULT_MODEL, RetrievalSettings
from retrieval.embeddings import build_embeddings
from retrieval.indexer import Indexer, match_text
from retrieval.ingest import iter_articles
from retrieval.service import build_newsdesk
from retrieval.store import ChunkStore, embedded_client

ROOT = Path(__file__).resolve().parent.parent
DEV_SET = ROOT.parent / "shared" / "eval" / "realtimeqa-dev"
DIMS = 384
# On a loaded machine one call to Chroma (a large upsert, opening a large store) can take longer
# than the 15 s default (STORE_TIMEOUT_S): the benchmark waits, and the time counts.
LOADED_TIMEOUT_S = 600.0
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
    """The archive of about `size` chunks in `folder`, built once: what the build reported. A
    build that stopped half-way resumes (the index run is incremental)."""
    built = folder / "built.json"
    if built.exists():
        return json.loads(built.read_text())
    articles = folder / "articles.jsonl.gz"
    resumed = articles.exists()
    if not resumed:
        shutil.rmtree(folder, ignore_errors=True)
        folder.mkdir(parents=True)
        partial = folder / "articles.jsonl.gz.partial"
        with gzip.open(partial, "wt", encoding="utf-8") as handle:
            for article in synthetic_articles(pool, size):
                handle.write(json.dumps(article) + "\n")
        partial.rename(articles)
    vectors = StandIns(pool)
    store = ChunkStore(embedded_client(folder / "data" / "chroma", LOADED_TIMEOUT_S), vectors, model_name=DEFAULT_MODEL,
                       timeout_s=LOADED_TIMEOUT_S)
    started = time.perf_counter()
    last = [started]

    def progress(done: int, total: int) -> None:
        if time.perf_counter() - last[0] > 60 or done == total:
            last[0] = time.perf_counter()
            print(f"  built {done:,} of {total:,} chunks in {last[0] - started:.0f} s", file=sys.stderr, flush=True)

    report = Indexer(store, Chunker(), vectors, batch_size=1000).run([articles], progress=progress)
    if resumed:  # the stopped run embedded the rest: count the whole archive's chunks again
        vectors.counts = {"real": 0, "stand-in": 0}
        for article in iter_articles([articles]):
            for chunk in Chunker().split(article):
                key = _key(match_text(article, chunk))
                vectors.counts["real" if key in pool.exact else "stand-in"] += 1
    summary = {"chunks": store.count(), "articles": report.added + report.unchanged,
               "build_s": time.perf_counter() - started, "resumed": resumed,
               "real_vectors": vectors.counts["real"], "stand_in_vectors": vectors.counts["stand-in"]}
    built.write_text(json.dumps(summary))
    return summary


def questions(count: int, seed: int = 41, dataset: Path = DEV_SET) -> list[str]:
    """`count` of the dev set's questions, drawn at random."""
    with open(dataset / "questions.jsonl", encoding="utf-8") as handle:
        asked = [json.loads(line)["question"] for line in handle]
    return random.Random(seed).sample(asked, min(count, len(asked)))


def du(path: Path) -> float:
    """MB on disk under `path`."""
    return sum(p.stat().st_blocks * 512 for p in path.rglob("*") if p.is_file()) / 1e6


def timed(call, *args, **kwargs):
    started = time.perf_counter()
    result = call(*args, **kwargs)
    return result, time.perf_counter() - started


def noop_articles(folder: Path, count: int = 1000, seed: int = 7) -> Path:
    """`count` of the archive's articles, unchanged, in a file of their own."""
    with gzip.open(folder / "articles.jsonl.gz", "rt", encoding="utf-8") as handle:
        lines = handle.readlines()
    path = folder / f"noop-{count}.jsonl.gz"
    with gzip.open(path, "wt", encoding="utf-8") as handle:
        handle.writelines(random.Random(seed).sample(lines, min(count, len(lines))))
    return path


# A warm process (the bot's steady state): load, ask once untimed, then time each ask.
WARM_ASKS = """
import json, sys, time
from pathlib import Path
from retrieval.config import ASK_PASSAGES, RetrievalSettings
from retrieval.service import build_newsdesk
desk = build_newsdesk(RetrievalSettings())
questions = json.loads(sys.argv[1])
desk.ask(questions[0])
times, cpu, search_times, search_cpu, abstained = [], [], [], [], 0
for question in questions[1:]:
    started, used = time.perf_counter(), time.process_time()
    answer = desk.ask(question)
    times.append((time.perf_counter() - started) * 1000)
    cpu.append((time.process_time() - used) * 1000)
    abstained += answer.abstained
    started, used = time.perf_counter(), time.process_time()
    desk.search(question, k=ASK_PASSAGES)  # retrieval alone: what grows with the archive
    search_times.append((time.perf_counter() - started) * 1000)
    search_cpu.append((time.process_time() - used) * 1000)
peak = next(l.split()[1] for l in open("/proc/self/status") if l.startswith("VmHWM"))
print(json.dumps({"times": times, "cpu": cpu, "search_times": search_times, "search_cpu": search_cpu,
                  "abstained": abstained, "peak_mb": int(peak) / 1024}))
"""


def warm_asks(env: dict[str, str], asked: list[str]) -> dict:
    done = subprocess.run([sys.executable, "-c", WARM_ASKS, json.dumps(asked)], env=env, cwd=ROOT,
                          capture_output=True, text=True)
    if done.returncode:
        raise SystemExit(f"the asking process failed:\n{done.stderr}")
    got = json.loads(done.stdout.splitlines()[-1])
    return {"ask_p50_ms": statistics.median(got["times"]), "ask_p95_ms": float(np.percentile(got["times"], 95)),
            "ask_cpu_p50_ms": statistics.median(got["cpu"]), "ask_cpu_p95_ms": float(np.percentile(got["cpu"], 95)),
            "search_p50_ms": statistics.median(got["search_times"]),
            "search_p95_ms": float(np.percentile(got["search_times"], 95)),
            "search_cpu_p50_ms": statistics.median(got["search_cpu"]),
            "search_cpu_p95_ms": float(np.percentile(got["search_cpu"], 95)),
            "asks": len(got["times"]), "abstained": got["abstained"], "warm_peak_mb": got["peak_mb"]}


def first_answers(env: dict[str, str], asked: list[str]) -> dict:
    """`newsdesk ask` in fresh processes: process start to answer, and peak RSS (medians)."""
    from bench.oneshot import timed as run_cli

    runs, cpu = [], []
    for question in asked:
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        runs.append(run_cli(["ask", question], env, ROOT)[:2])
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpu.append(after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime)
    return {"first_answer_s": statistics.median(w for w, _ in runs), "first_answer_cpu_s": statistics.median(cpu),
            "first_answer_max_s": max(w for w, _ in runs),
            "first_answer_peak_mb": statistics.median(r for _, r in runs)}


def one_size(size: int, folder: Path, pool: DevPool, asks: int, export_from: Path, server: bool,
             scan_baseline: bool = True) -> dict:
    from bench.oneshot import environment
    from retrieval.lexical import LexicalIndex
    from retrieval.lexical_store import LexicalFiles

    row = dict(build(size, folder, pool))
    data_dir = folder / "data"
    shutil.copytree(export_from, data_dir / "models", dirs_exist_ok=True)
    shutil.rmtree(data_dir / "bm25", ignore_errors=True)  # timed from nothing below
    real = build_embeddings(DEFAULT_MODEL, data_dir)
    store = ChunkStore(embedded_client(data_dir / "chroma", LOADED_TIMEOUT_S), real, model_name=DEFAULT_MODEL,
                       timeout_s=LOADED_TIMEOUT_S)

    # A write no index run finished: the first no-op run below scans every chunk's metadata, as
    # every run did before article records were used; the second (after a clean run) does not.
    generation = store.mark_changed() if scan_baseline else store.generation()
    rows = ((c.id, f"{c.metadata.get('title', '')}\n{c.text}", int(c.metadata.get("date_num", 0)))
            for c in store.iter_chunks())
    built, row["bm25_build_s"] = timed(LexicalIndex.from_rows, rows, generation)
    files = LexicalFiles(data_dir / "bm25" / store.collection_name)
    _, row["bm25_save_s"] = timed(files.save, built)
    loaded, row["bm25_load_s"] = timed(files.load, generation)
    assert loaded is not None and len(loaded) == len(built) == row["chunks"], (loaded, row)
    print(f"  {size}: {json.dumps(row)}", file=sys.stderr, flush=True)  # what is measured so far
    built = loaded = None  # noqa: F841 - let go of both before the processes below start

    noop = noop_articles(folder)
    desk = build_newsdesk(RetrievalSettings(_env_file=None, newsdesk_data_dir=data_dir, chroma_host=None,
                                            llm_provider="none"), embeddings=real, store=store)
    row["noop_articles"] = min(1000, row["articles"])
    if scan_baseline:
        first, row["noop_scan_s"] = timed(desk.index, [noop])
        assert first.unchanged == row["noop_articles"] and not first.changed, first
    again, row["noop_s"] = timed(desk.index, [noop])
    assert again.unchanged == row["noop_articles"] and not again.changed, again
    print(f"  {size}: {json.dumps(row)}", file=sys.stderr, flush=True)
    desk = store = None
    row["chroma_mb"], row["bm25_mb"] = du(data_dir / "chroma"), du(data_dir / "bm25")

    asked = questions(asks + 4)
    env = environment(data_dir) | {"STORE_TIMEOUT_S": str(LOADED_TIMEOUT_S)}
    row.update(warm_asks(env, asked[:asks + 1]))
    print(f"  {size}: {json.dumps(row)}", file=sys.stderr, flush=True)
    row.update(first_answers(env, asked[-3:]))
    if server:
        from bench.faults import start_server

        (proc, port), row["server_start_s"] = timed(lambda: start_server(data_dir / "chroma"))
        try:
            served = {**env, "CHROMA_HOST": "127.0.0.1", "CHROMA_PORT": str(port)}
            row.update({f"server_{k}": v for k, v in warm_asks(served, asked[:asks + 1]).items()})
            row.update({f"server_{k}": v for k, v in first_answers(served, asked[-3:]).items()})
        finally:
            proc.terminate()
            proc.wait(30)
    return row


COLUMNS = (("chunks", "chunks"), ("real_vectors", "real vectors"), ("stand_in_vectors", "stand-ins"),
           ("chroma_mb", "chroma MB"), ("bm25_mb", "bm25 MB"), ("bm25_build_s", "bm25 build s"),
           ("bm25_load_s", "bm25 load s"), ("noop_articles", "no-op articles"), ("noop_scan_s", "no-op, scan s"), ("noop_s", "no-op s"),
           ("ask_p50_ms", "ask p50 ms"), ("ask_p95_ms", "ask p95 ms"),
           ("ask_cpu_p50_ms", "its CPU p50 ms"), ("ask_cpu_p95_ms", "CPU p95 ms"),
           ("search_p50_ms", "retrieve p50 ms"), ("search_p95_ms", "p95 ms"), ("search_cpu_p50_ms", "its CPU p50 ms"), ("warm_peak_mb", "warm peak MB"),
           ("first_answer_s", "start to answer s"), ("first_answer_cpu_s", "its CPU s"),
           ("first_answer_peak_mb", "its peak MB"))


@app.command()
def main(dev_index: Annotated[Path, typer.Option(help="A data directory the quality benchmark built on the dev set.")],
         sizes: Annotated[str, typer.Option(help="Comma-separated chunk counts.")] = "10000,100000",
         asks: Annotated[int, typer.Option(min=5, help="Questions timed per size.")] = 50,
         cache: Annotated[Path, typer.Option(help="Where each size is built once and kept.")] = Path("/tmp/newsdesk-scale"),
         server: Annotated[bool, typer.Option(help="Also ask through a `chroma run` server.")] = False,
         scan_baseline: Annotated[bool, typer.Option(help="Also time a no-op re-index that scans every chunk "
                                                          "(as every run did before), first.")] = True,
         ) -> None:
    pool = DevPool.load(dev_index)
    # The model's ONNX export, made once (it needs torch) and copied into each size's data dir.
    export_from = cache / "export" / "models"
    if not export_from.exists():
        build_embeddings(DEFAULT_MODEL, cache / "export").embed_query("export")
    rows = []
    for size in (int(s) for s in sizes.split(",")):
        row = one_size(size, cache / f"n{size}", pool, asks, export_from, server, scan_baseline)
        rows.append(row)
        print(json.dumps(row), flush=True)
    print(f"\n{os.cpu_count()} CPUs, load average {' '.join(f'{x:.1f}' for x in os.getloadavg())}")
    print(" | ".join(label for _, label in COLUMNS))
    for r in rows:
        print(" | ".join("-" if key not in r else f"{r[key]:.2f}" if isinstance(r[key], float) else f"{r[key]:,}"
                         for key, _ in COLUMNS))


if __name__ == "__main__":
    app()
