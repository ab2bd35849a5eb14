"""The settings a benchmark measures and the cached index it measures them on:
bench/.cache/<dataset>-v<INDEX_VERSION>-<model>-<chunk_size>-<chunk_overlap>, kept between
runs and only added to (see bench/quality.py's docstring)."""

from __future__ import annotations

import datetime as dt
import fcntl
import json
import time
from contextlib import contextmanager
from pathlib import Path

import typer

from bench.console import err
from retrieval.config import RetrievalSettings
from retrieval.indexer import INDEX_VERSION

CACHE_DIR = Path(__file__).resolve().parent / ".cache"


def bench_settings(configured: RetrievalSettings, llm: bool) -> RetrievalSettings:
    """The settings measured: the offline default unless `llm`, then the configured LLM."""
    if not llm:
        return configured.model_copy(update={"llm_provider": "none"})
    if configured.llm_provider == "none":
        raise typer.BadParameter("--llm needs an LLM: set LLM_PROVIDER and LLM_MODEL (see the README's "
                                 "'Using an LLM'), in the environment or .env")
    return configured


def cache_key(dataset_name: str, settings: RetrievalSettings) -> str:
    model = Path(settings.embedding_model).name or settings.embedding_model
    return f"{dataset_name}-v{INDEX_VERSION}-{model}-{settings.chunk_size}-{settings.chunk_overlap}"


def cached_index_settings(dataset_name: str) -> RetrievalSettings:
    """The offline default's settings over bench.quality's cached index of `dataset_name`, for
    the benchmarks that read that index without building it; BadParameter when it is not there."""
    base = bench_settings(RetrievalSettings(), llm=False)
    settings = base.model_copy(update={"newsdesk_data_dir": CACHE_DIR / cache_key(dataset_name, base),
                                       "chroma_host": None})
    if not (settings.data_dir / "chroma").is_dir():
        raise typer.BadParameter(f"no cached index at {settings.data_dir}: run `python -m bench.quality` first")
    return settings


@contextmanager
def exclusive(lock_path: Path):
    """One benchmark at a time may write a cache."""
    lock_path.parent.mkdir(parents=True, exist_ok=True)
    with open(lock_path, "w") as fh:
        try:
            fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            err.print(f"[red]error:[/] another benchmark is using {lock_path.with_suffix('')}; wait for it")
            raise typer.Exit(1) from None
        yield


def build_index(desk, articles_file: Path, meta_path: Path) -> dict:
    """Index (incrementally) and keep a record of how long building the cache took."""
    meta = json.loads(meta_path.read_text()) if meta_path.exists() else None
    chunks_before = desk.store.count()
    started = time.perf_counter()
    report = desk.index([articles_file])
    seconds = time.perf_counter() - started
    if meta is None:
        # A cache that already held chunks was built by someone else (e.g. `newsdesk index`).
        meta = {"index_seconds": seconds if chunks_before == 0 else None, "chunks_embedded": report.chunks_embedded,
                "note": "" if chunks_before == 0 else "built outside the benchmark: build time unknown"}
    elif report.chunks_embedded:
        meta["index_seconds"] = (meta["index_seconds"] or 0.0) + seconds if meta["index_seconds"] is not None else None
        meta["chunks_embedded"] = meta.get("chunks_embedded", 0) + report.chunks_embedded
    meta.update(chunks=desk.store.count(), articles=len(desk.store.articles()), index_version=INDEX_VERSION,
                failures=report.failed, updated=dt.datetime.now().isoformat(timespec="seconds"))
    meta_path.write_text(json.dumps(meta, indent=2) + "\n")
    return {**meta, "this_run_seconds": seconds, "this_run_embedded": report.chunks_embedded}
