"""Shared fixtures. The real model loads once per session; logic tests use `HashEmbeddings`."""

from __future__ import annotations

import math
import shutil
import zlib
from collections.abc import Callable
from pathlib import Path

import pytest
from langchain_core.embeddings import Embeddings

from retrieval.config import RetrievalSettings
from retrieval.embeddings import LazyEmbeddings
from retrieval.service import Newsdesk, build_newsdesk

ROOT = Path(__file__).resolve().parent.parent
SEEDS = ROOT / "seeds"
SEED_ID = "000_71643a21d7a48199.txt"


class HashEmbeddings(Embeddings):
    """A deterministic stand-in: a text becomes the counts of its tokens hashed into `dims`
    buckets, normalised, so the cosine of two texts measures their shared tokens. Tokens are
    lower-cased words by default; pass `tokens=retrieval.lexical.terms` for stemmed content
    words. No model is loaded."""

    def __init__(self, dims: int = 64, tokens: Callable[[str], list[str]] = lambda text: text.lower().split()):
        self.dims = dims
        self.tokens = tokens

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        return [self._embed(t) for t in texts]

    def embed_query(self, text: str) -> list[float]:
        return self._embed(text)

    def _embed(self, text: str) -> list[float]:
        vector = [0.0] * self.dims
        for token in self.tokens(text):
            vector[zlib.crc32(token.encode()) % self.dims] += 1.0
        norm = math.sqrt(sum(v * v for v in vector)) or 1.0
        return [v / norm for v in vector]


@pytest.fixture(scope="session")
def model() -> LazyEmbeddings:
    """The real all-MiniLM-L6-v2, loaded once for the whole session."""
    embeddings = LazyEmbeddings("all-MiniLM-L6-v2")
    embeddings.embed_query("warm up")
    return embeddings


class Clock:
    """A monotonic clock for tests: `step` seconds pass at each reading, and `advance` moves it on."""

    def __init__(self, step: float = 0.0):
        self.now = 1000.0
        self.step = step

    def __call__(self) -> float:
        self.now += self.step
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


def make_desk(data_dir: Path, embeddings: Embeddings | None, model_name: str = "all-MiniLM-L6-v2", *,
              clock: Callable[[], float] | None = None, **settings) -> Newsdesk:
    settings.setdefault("chroma_host", None)  # never let a developer's environment pick the store
    config = RetrievalSettings(_env_file=None, newsdesk_data_dir=data_dir, embedding_model=model_name, **settings)
    return build_newsdesk(config, embeddings=embeddings, **({"clock": clock} if clock else {}))


@pytest.fixture(scope="session")
def seed_desk(model, tmp_path_factory) -> Newsdesk:
    """A Newsdesk with the real model over the shipped seed articles (read-only in tests)."""
    desk = make_desk(tmp_path_factory.mktemp("seed-data"), model)
    report = desk.index([SEEDS])
    assert report.failed == 0, report.failures
    return desk


@pytest.fixture(scope="session")
def onnx_desk(tmp_path_factory) -> Newsdesk:
    """A Newsdesk over the seed built as the entry points build it: its embeddings export the
    model to ONNX on first use (into its data directory) and embed through ONNX Runtime."""
    desk = make_desk(tmp_path_factory.mktemp("onnx-data"), None, embedding_backend="auto")
    report = desk.index([SEEDS])
    assert report.failed == 0, report.failures
    return desk


@pytest.fixture
def hash_desk(tmp_path) -> Newsdesk:
    """A Newsdesk over an empty store with the hashing embedder, for indexing logic."""
    return make_desk(tmp_path / "data", HashEmbeddings(), model_name="hash-64")


@pytest.fixture
def seed_copy(tmp_path) -> Path:
    folder = tmp_path / "articles"
    shutil.copytree(SEEDS, folder)
    return folder


# ---------------------------------------------------------------------------------------
# Discord bot fixtures (fake Discord, bots, the seeded Newsdesk): see tests/bot_fixtures.py
from bot_fixtures import *  # noqa: E402,F401,F403
