"""The embedding model without torch: an ONNX export of the same weights, run by ONNX Runtime.

Importing sentence-transformers (and torch) costs ~12 s and ~500 MB, which a one-shot
`newsdesk ask` would pay on every call. ONNX Runtime and `tokenizers` (both already
installed with Chroma) load in well under a second and give the same vectors: the export is
of the model's own weights, and `OnnxEmbeddings` repeats what sentence-transformers does
after the transformer (mean pooling over the attention mask, then L2 normalisation), so
an index built either way answers the same (tests/test_onnx_embeddings.py: cosine ≥ 0.9999).

Exporting needs torch, so it happens in a process that has loaded torch anyway (the first
index run, or the first question asked without an export): `export_model` writes
`model.onnx`, its weights (`model.onnx.data`) and `export.json` into a folder of the data
directory, each file renamed into place whole. The record names the weights the export came
from (their SHA-256) and how it was made (`EXPORT_VERSION`): changed weights, or a changed
way of exporting, are exported again instead of trusted.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import re
import shutil
import tempfile
import threading
import uuid
import warnings
from dataclasses import dataclass
from pathlib import Path

from langchain_core.embeddings import Embeddings

from .errors import NewsdeskError

log = logging.getLogger(__name__)

EXPORT_FILE = "model.onnx"
# The weights beside the graph: ONNX Runtime maps them instead of copying the whole
# protobuf first, which keeps a one-shot `ask` ~45 MB lighter at its peak.
DATA_FILE = "model.onnx.data"
RECORD_FILE = "export.json"
EXPORT_VERSION = 1  # bump when the export changes (opset, fusion, inputs): old exports are redone
OPSET = 17
WEIGHT_FILES = ("model.safetensors", "pytorch_model.bin")  # what an export is made from, first found
_POOLING = "sentence_transformers.models.Pooling"
_SUPPORTED_MODULES = {"sentence_transformers.models.Transformer", _POOLING, "sentence_transformers.models.Normalize"}


class ExportError(NewsdeskError):
    """A model cannot be exported to ONNX, or its export cannot be used."""


@dataclass(frozen=True)
class ModelLayout:
    """What the ONNX path needs to know of a sentence-transformers model folder."""

    folder: Path
    weights: Path
    max_seq_length: int

    @classmethod
    def read(cls, folder: Path) -> ModelLayout:
        """The layout of `folder`; an ExportError when ONNX cannot reproduce the model's
        pipeline (only transformer, mean pooling and normalisation are repeated here)."""
        try:
            modules = json.loads((folder / "modules.json").read_text())
            kinds = [m["type"] for m in modules]
            if set(kinds) - _SUPPORTED_MODULES or _POOLING not in kinds:
                raise ExportError(f"{folder}: modules {kinds} are not transformer, pooling, normalize")
            pooling_dir = next(folder / m.get("path", "") for m in modules if m["type"] == _POOLING)
            pooling = json.loads((pooling_dir / "config.json").read_text())
            if not pooling.get("pooling_mode_mean_tokens") or any(
                    value for key, value in pooling.items() if key.startswith("pooling_mode_") and key != "pooling_mode_mean_tokens"):
                raise ExportError(f"{folder}: only mean pooling is supported, not {pooling}")
            config = json.loads((folder / "sentence_bert_config.json").read_text())
        except (OSError, ValueError, KeyError, TypeError, StopIteration) as exc:
            raise ExportError(f"{folder} is not a sentence-transformers model ONNX can run: {exc}") from exc
        if not (folder / "tokenizer.json").is_file():
            raise ExportError(f"{folder} has no tokenizer.json")
        weights = next((folder / name for name in WEIGHT_FILES if (folder / name).is_file()), None)
        if weights is None:
            raise ExportError(f"{folder} has none of {', '.join(WEIGHT_FILES)}")
        return cls(folder, weights, int(config.get("max_seq_length") or 512))


def export_folder(data_dir: Path, model_name: str) -> Path:
    """Where the export of `model_name` lives in a data directory."""
    safe = re.sub(r"[^A-Za-z0-9._-]+", "_", Path(model_name).name or model_name).strip("._") or "model"
    return data_dir / "models" / safe


# An `ask` alternates between two ONNX models: the question is embedded, the answer model
# (retrieval/answer_model.py) reads the shortlist, the sentence vectors follow, with Chroma
# and NumPy in between. By default ONNX Runtime's worker threads spin for a while after each
# run, waiting for more work, and the other session's threads find the two cores busy with
# spinning. With idle threads asleep an `ask` on the dev archive took 0.86 of the time
# (median), and bulk embedding at ingest 1.09 times as long: the question waits, the index
# run does not (bench/ask_variants.py; bench/RESULTS.md, "Idle threads that spin").
def cpu_session(path: Path, *, spinning: bool = False):
    """An `onnxruntime.InferenceSession` for the model at `path`, on the CPU, logging errors only
    (quantised graphs log harmless warnings on load); its idle threads sleep unless `spinning`."""
    import onnxruntime  # loaded on first use: a command that embeds nothing never pays for it

    options = onnxruntime.SessionOptions()
    options.log_severity_level = 3
    options.add_session_config_entry("session.intra_op.allow_spinning", "1" if spinning else "0")
    return onnxruntime.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _weights_record(weights: Path, sha256: str | None = None) -> dict:
    stat = weights.stat()
    return {"path": str(weights), "size": stat.st_size, "mtime_ns": stat.st_mtime_ns, "sha256": sha256 or _sha256(weights)}


def _write_atomically(target: Path, write) -> None:
    """`write(temp path)`, then rename over `target`: readers see the old file or the new, whole."""
    tmp = target.with_name(f".{target.name}.{uuid.uuid4().hex}.tmp")
    try:
        write(tmp)
        tmp.replace(target)
    finally:
        tmp.unlink(missing_ok=True)


def current_export(folder: Path, layout: ModelLayout) -> Path | None:
    """The export in `folder` when it was made from `layout`'s weights as they are now, else None.

    The weights' size and modification time are compared first; only when they differ (a
    reinstalled package) are the weights hashed, and a matching hash is written back."""
    onnx_path = folder / EXPORT_FILE
    try:
        record = json.loads((folder / RECORD_FILE).read_text())
        seen = record["weights"]
        if record.get("version") != EXPORT_VERSION or not (onnx_path.is_file() and (folder / DATA_FILE).is_file()):
            return None
        stat = layout.weights.stat()
        if (seen["path"], seen["size"], seen["mtime_ns"]) == (str(layout.weights), stat.st_size, stat.st_mtime_ns):
            return onnx_path
        if seen["size"] != stat.st_size or seen["sha256"] != _sha256(layout.weights):
            return None
    except (OSError, ValueError, KeyError, TypeError):
        return None
    try:  # the same weights elsewhere or touched: remember them, so the next start need not hash
        record["weights"] = _weights_record(layout.weights, seen["sha256"])
        _write_atomically(folder / RECORD_FILE, lambda tmp: tmp.write_text(json.dumps(record, indent=2)))
    except OSError:
        pass
    return onnx_path


def export_model(layout: ModelLayout, folder: Path) -> Path:
    """Export the model's transformer to `folder/model.onnx` (needs torch; a few seconds) and
    record the weights it came from. Returns the ONNX file's path.

    Exported with eager attention, which ONNX Runtime's transformer optimizer recognises and
    fuses (attention, layer norms, GELU): ~15 chunks/s in bulk where sentence-transformers
    makes ~12 on the 2-core machines, with the same vectors (cosine > 0.99999)."""
    os.environ["HF_HUB_OFFLINE"] = "1"  # the weights are on disk; never reach for a hub
    import torch
    from transformers import AutoModel
    from transformers.utils import logging as hf_logging

    hf_logging.disable_progress_bar()
    sha256 = _sha256(layout.weights)
    model = AutoModel.from_pretrained(str(layout.folder), attn_implementation="eager").eval()
    config = model.config

    class LastHiddenState(torch.nn.Module):
        def __init__(self, inner):
            super().__init__()
            self.inner = inner

        def forward(self, input_ids, attention_mask, token_type_ids):
            return self.inner(input_ids=input_ids, attention_mask=attention_mask,
                              token_type_ids=token_type_ids).last_hidden_state

    names = ["input_ids", "attention_mask", "token_type_ids"]
    # A padded example: the trace must not specialise on an all-ones attention mask.
    input_ids = torch.tensor([[101, 2023, 2003, 1037, 3231, 102], [101, 3231, 102, 0, 0, 0]])
    mask = (input_ids != 0).long()
    folder.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix=".export-", dir=folder))
    try:
        traced = work / "traced.onnx"
        with torch.no_grad(), warnings.catch_warnings():
            warnings.simplefilter("ignore")  # tracer notes about shapes that are constant for BERT
            torch.onnx.export(
                LastHiddenState(model), (input_ids, mask, torch.zeros_like(input_ids)), str(traced),
                input_names=names, output_names=["last_hidden_state"],
                dynamic_axes={name: {0: "batch", 1: "sequence"} for name in [*names, "last_hidden_state"]},
                opset_version=OPSET, dynamo=False,
            )
            fused = config.model_type == "bert" and _fuse(traced, work / EXPORT_FILE, config.num_attention_heads,
                                                          config.hidden_size)
            if not fused:
                import onnx

                onnx.save_model(onnx.load(str(traced)), str(work / EXPORT_FILE), save_as_external_data=True,
                                all_tensors_to_one_file=True, location=DATA_FILE)
        # The graph names its weights' file: move the weights first, the graph after them.
        (work / DATA_FILE).replace(folder / DATA_FILE)
        (work / EXPORT_FILE).replace(folder / EXPORT_FILE)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    record = {"version": EXPORT_VERSION, "model": str(layout.folder), "weights": _weights_record(layout.weights, sha256),
              "opset": OPSET, "fused": fused, "torch": torch.__version__,
              "max_seq_length": layout.max_seq_length}
    _write_atomically(folder / RECORD_FILE, lambda tmp: tmp.write_text(json.dumps(record, indent=2)))
    return folder / EXPORT_FILE


def _fuse(source: Path, target: Path, num_heads: int, hidden_size: int) -> bool:
    """Write `source` to `target` with ONNX Runtime's fused BERT operators; False when the
    optimizer is unavailable or fails (the unfused model gives the same vectors, slower)."""
    try:
        from onnxruntime.transformers.optimizer import optimize_model

        fused = optimize_model(str(source), model_type="bert", num_heads=num_heads, hidden_size=hidden_size,
                               opt_level=1)
        fused.save_model_to_file(str(target), use_external_data_format=True, all_tensors_to_one_file=True)
    except Exception as exc:  # noqa: BLE001
        log.warning("ONNX Runtime's optimizer could not fuse the exported model (%s); keeping it unfused", exc)
        return False
    if not target.with_name(DATA_FILE).is_file():  # a tiny model's weights may stay inline: ours never do
        log.warning("the fused model's weights are not in %s; keeping it unfused", DATA_FILE)
        return False
    return True


class OnnxEmbeddings(Embeddings):
    """Normalised sentence embeddings from an ONNX export; loaded on first use, thread-safely.

    Texts are tokenised with the model's own `tokenizer.json` (truncated to its
    `max_seq_length`, padded to the longest in a batch), run through the transformer, and
    mean-pooled over the attention mask, then L2-normalised: sentence-transformers' pipeline.
    """

    # Four texts per run by default, the longest together. An `ask` embeds its 8 best
    # sentences: in runs of 4 they took 0.80 of the time they took one at a time (34 against
    # 43 ms, scratch A/B over 60 dev shortlists; the vectors were identical, the attention
    # mask keeps the padding out). With the question's vector kept as well (`ModelEmbeddings`),
    # undoing both makes an `ask` 1.17 times as long (bench/ask_variants.py). Chunks embed in
    # bulk as fast in runs of 4 as one at a time (69 chunks/s both); runs of 8 or 32 embedded
    # them less than 10% faster. The cost is memory: a one-shot `ask` peaks 10 MB higher in runs
    # of 4 than one at a time (320 against 310 MB, bench.oneshot, 3 rounds each).
    def __init__(self, onnx_path: Path, layout: ModelLayout, batch_size: int = 4):
        self.onnx_path = onnx_path
        self.layout = layout
        self.batch_size = batch_size
        self._session = None
        self._tokenizer = None
        self._inputs: list[str] = []
        self._lock = threading.Lock()

    def _load(self):
        if self._session is None:
            with self._lock:
                if self._session is None:
                    from tokenizers import Tokenizer

                    tokenizer = Tokenizer.from_file(str(self.layout.folder / "tokenizer.json"))
                    tokenizer.enable_truncation(self.layout.max_seq_length)
                    pad = tokenizer.padding or {}
                    tokenizer.enable_padding(pad_id=pad.get("pad_id", 0), pad_token=pad.get("pad_token", "[PAD]"))
                    session = cpu_session(self.onnx_path)
                    self._inputs = [i.name for i in session.get_inputs()]
                    self._tokenizer, self._session = tokenizer, session
        return self._session, self._tokenizer

    def _embed_batch(self, texts: list[str]):
        import numpy as np

        session, tokenizer = self._load()
        encodings = tokenizer.encode_batch(texts)
        feed = {
            "input_ids": np.array([e.ids for e in encodings], dtype=np.int64),
            "attention_mask": np.array([e.attention_mask for e in encodings], dtype=np.int64),
            "token_type_ids": np.array([e.type_ids for e in encodings], dtype=np.int64),
        }
        hidden = session.run(None, {name: feed[name] for name in self._inputs})[0]
        mask = feed["attention_mask"][..., None].astype(hidden.dtype)
        pooled = (hidden * mask).sum(axis=1) / np.clip(mask.sum(axis=1), 1e-9, None)
        norms = np.linalg.norm(pooled, axis=1, keepdims=True)
        return pooled / np.clip(norms, 1e-12, None)

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        if not texts:
            return []
        # Longest first, as sentence-transformers does: batches of similar lengths pad less.
        order = sorted(range(len(texts)), key=lambda i: -len(texts[i]))
        vectors: list[list[float]] = [[] for _ in texts]
        for begin in range(0, len(order), self.batch_size):
            chunk = order[begin:begin + self.batch_size]
            for position, vector in zip(chunk, self._embed_batch([texts[i] for i in chunk]).tolist()):
                vectors[position] = vector
        return vectors

    def embed_query(self, text: str) -> list[float]:
        return self.embed_documents([text])[0]
