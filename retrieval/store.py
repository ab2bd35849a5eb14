"""Chunks and their vectors in Chroma, embedded on disk or on a Chroma server.

Chroma is the single source of truth for what is indexed: each chunk's metadata carries its
article's id, content hash and origin file, so incremental indexing needs no second manifest
that could drift from the store. The embedding model's name is recorded in the collection's
metadata, and a store opened with another model refuses to mix vectors.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from langchain_chroma import Chroma
from langchain_core.embeddings import Embeddings

from .errors import ModelMismatchError, StoreUnavailableError

MODEL_KEY = "embedding_model"
# Changed by every index run that changes the content, so that other processes and machines
# sharing the collection know their BM25 copies are stale (see Newsdesk.lexical_index).
GENERATION_KEY = "newsdesk_generation"


def date_number(date: dt.date | None) -> int:
    """A date as YYYYMMDD, usable in Chroma `where` filters; 0 when unknown."""
    return date.year * 10000 + date.month * 100 + date.day if date else 0


def date_from_number(number: int) -> dt.date | None:
    """The inverse of `date_number`."""
    return dt.date(number // 10000, number // 100 % 100, number % 100) if number else None


@dataclass
class StoredArticle:
    """What the store knows of one article, gathered from its chunks' metadata."""

    doc_id: str
    doc_hash: str
    origin: str
    title: str
    source: str
    date: str
    url: str
    chunk_ids: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class StoredChunk:
    id: str
    text: str
    metadata: dict


def embedded_client(path: Path):
    import chromadb

    path.mkdir(parents=True, exist_ok=True)
    return chromadb.PersistentClient(path=str(path), settings=chromadb.Settings(anonymized_telemetry=False))


def server_client(host: str, port: int):
    import chromadb

    try:
        return chromadb.HttpClient(host=host, port=port, settings=chromadb.Settings(anonymized_telemetry=False))
    except Exception as exc:  # chromadb raises ValueError/ConnectionError variants on a dead server
        raise StoreUnavailableError(f"cannot reach the Chroma server at {host}:{port}: {exc}") from exc


class ChunkStore:
    """A Chroma collection of article chunks. Give it a chromadb client (embedded or HTTP)."""

    def __init__(self, client, embeddings: Embeddings, *, model_name: str, collection_name: str = "newsdesk"):
        self.model_name = model_name
        self.collection_name = collection_name
        self.embeddings = embeddings
        try:
            self.vectorstore = Chroma(
                client=client,
                collection_name=collection_name,
                embedding_function=embeddings,
                collection_metadata={"hnsw:space": "cosine", MODEL_KEY: model_name},
            )
            # The writes go through the collection itself: they carry vectors we computed
            # from title + text while the stored document stays the exact article span.
            self._collection = client.get_collection(collection_name)
            self._client = client
        except Exception as exc:
            raise StoreUnavailableError(f"cannot open the Chroma collection {collection_name!r}: {exc}") from exc

    @property
    def recorded_model(self) -> str | None:
        return (self._collection.metadata or {}).get(MODEL_KEY)

    def check_model(self) -> None:
        recorded = self.recorded_model
        if recorded is not None and recorded != self.model_name:
            raise ModelMismatchError(
                f"this index was built with the embedding model {recorded!r}, not {self.model_name!r}; "
                "re-index from scratch (a new data directory or collection) to change models"
            )

    def _fresh_metadata(self) -> dict:
        """The collection's metadata as Chroma has it now (the collection object caches it)."""
        return self._guard(self._client.get_collection, self.collection_name).metadata or {}

    def generation(self) -> str:
        """A token that changes whenever an index run changes the content ("" before any)."""
        return str(self._fresh_metadata().get(GENERATION_KEY, ""))

    def mark_changed(self) -> str:
        """Start a new generation; returns its token. Every write does, and an index run
        once more at its end, so that processes that read mid-run rebuild again."""
        token = uuid.uuid4().hex
        # Chroma refuses to be handed the distance function again ("hnsw:space"), which
        # lives in the collection's configuration anyway: pass the other keys only.
        kept = {k: v for k, v in self._fresh_metadata().items() if not k.startswith("hnsw:")}
        self._guard(self._collection.modify, metadata={**kept, GENERATION_KEY: token})
        return token

    def count(self) -> int:
        return self._collection.count()

    def articles(self, where: dict | None = None) -> dict[str, StoredArticle]:
        """The indexed articles, keyed by id: every one, or those whose chunks match the
        Chroma filter `where` (e.g. {"doc_id": ...}), which spares a scan of the whole store."""
        found: dict[str, StoredArticle] = {}
        for chunk_id, meta in self._metadatas(where):
            doc = found.get(meta["doc_id"])
            if doc is None:
                doc = found[meta["doc_id"]] = StoredArticle(
                    doc_id=meta["doc_id"],
                    doc_hash=meta.get("doc_hash", ""),
                    origin=meta.get("origin", ""),
                    title=meta.get("title", ""),
                    source=meta.get("source", ""),
                    date=meta.get("date", ""),
                    url=meta.get("url", ""),
                )
            doc.chunk_ids.append(chunk_id)
        return found

    def content_keys(self) -> list[tuple[str, str]]:
        """(chunk id, article hash) of every chunk: what the BM25 index's fingerprint covers."""
        return [(chunk_id, meta.get("doc_hash", "")) for chunk_id, meta in self._metadatas()]

    def _metadatas(self, where: dict | None = None, page: int = 5000) -> Iterable[tuple[str, dict]]:
        offset = 0
        while True:
            got = self._guard(self._collection.get, where=where, include=["metadatas"], limit=page, offset=offset)
            yield from zip(got["ids"], got["metadatas"])
            if len(got["ids"]) < page:
                return
            offset += page

    def all_chunks(self, page: int = 5000) -> list[StoredChunk]:
        chunks, offset = [], 0
        while True:
            got = self._guard(self._collection.get, include=["documents", "metadatas"], limit=page, offset=offset)
            chunks += [StoredChunk(i, d, m) for i, d, m in zip(got["ids"], got["documents"], got["metadatas"])]
            if len(got["ids"]) < page:
                return chunks
            offset += page

    def get(self, ids: Sequence[str], *, with_embeddings: bool = False) -> dict[str, tuple[StoredChunk, list[float] | None]]:
        if not ids:
            return {}
        include = ["documents", "metadatas"] + (["embeddings"] if with_embeddings else [])
        got = self._guard(self._collection.get, ids=list(ids), include=include)
        vectors = got.get("embeddings") if with_embeddings else None
        out = {}
        for pos, chunk_id in enumerate(got["ids"]):
            vector = list(vectors[pos]) if vectors is not None else None
            out[chunk_id] = (StoredChunk(chunk_id, got["documents"][pos], got["metadatas"][pos]), vector)
        return out

    def chunks_of(self, doc_id: str) -> list[StoredChunk]:
        got = self._guard(self._collection.get, where={"doc_id": doc_id}, include=["documents", "metadatas"])
        chunks = [StoredChunk(i, d, m) for i, d, m in zip(got["ids"], got["documents"], got["metadatas"])]
        return sorted(chunks, key=lambda c: c.metadata["start"])

    def add(self, ids: list[str], texts: list[str], vectors: list[list[float]], metadatas: list[dict]) -> None:
        """Write chunks (replacing any with the same ids). Like `delete`, it starts a new
        generation first, so no BM25 copy labelled with an older one is taken for current,
        even when a run stops half-way."""
        self.check_model()
        if ids:
            self.mark_changed()
        for begin in range(0, len(ids), 1000):  # Chroma caps the size of one write
            end = begin + 1000
            self._guard(
                self._collection.upsert,
                ids=ids[begin:end], documents=texts[begin:end], embeddings=vectors[begin:end], metadatas=metadatas[begin:end],
            )

    def delete(self, ids: list[str]) -> None:
        if ids:
            self.mark_changed()
        for begin in range(0, len(ids), 1000):
            self._guard(self.vectorstore.delete, ids=ids[begin:begin + 1000])

    def dense_search(self, vector: list[float], k: int, where: dict | None = None) -> list[tuple[StoredChunk, float]]:
        """The k nearest chunks with their cosine similarity, best first."""
        hits = self._guard(
            self.vectorstore.similarity_search_by_vector_with_relevance_scores, vector, k=k, filter=where
        )
        # The collection uses cosine space: Chroma's distance is 1 - cosine similarity.
        return [(StoredChunk(doc.id, doc.page_content, doc.metadata), 1.0 - distance) for doc, distance in hits]

    @staticmethod
    def _guard(call, *args, **kwargs):
        try:
            return call(*args, **kwargs)
        except (ConnectionError, OSError) as exc:
            raise StoreUnavailableError(f"the vector store is unavailable: {exc}") from exc
        except Exception as exc:
            if type(exc).__module__.startswith(("httpx", "chromadb.errors")) and "connect" in str(exc).lower():
                raise StoreUnavailableError(f"the vector store is unavailable: {exc}") from exc
            raise
