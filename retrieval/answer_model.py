"""The answer model: how likely a sentence is to state the answer to a question.

A cross-encoder fine-tuned from the packaged all-MiniLM-L6-v2 on chat-style questions
(training/train_answer_model.py), shipped in `retrieval/answer_model/` as an int8 ONNX
graph (~23 MB) with its tokenizer. It reads the question and the sentence together, so it
tells "12 people died" from "the storm was centred near Tampa" for "how many died?", which
word overlap and cosine similarity cannot. Runs on onnxruntime and tokenizers: no torch.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from .errors import NewsdeskError
from .onnx_embeddings import cpu_session

PACKAGED = Path(__file__).resolve().parent / "answer_model"
CALIBRATION = "calibration.json"  # the thresholds chosen for these weights, beside them
MAX_TOKENS = 128  # question + sentence; a news sentence is rarely longer, and the tail rarely holds the answer
_QUOTES = str.maketrans({"“": '"', "”": '"', "‘": "'", "’": "'"})


def normalise_quotes(text: str) -> str:
    return text.translate(_QUOTES)


def sigmoid(x: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-x))


class AnswerModel:
    """Scores (question, sentence) pairs; loaded on first use, safe to share between threads."""

    def __init__(self, folder: Path = PACKAGED, batch_size: int = 32):
        self.folder = folder
        self.batch_size = batch_size
        self._session = None
        self._tokenizer = None
        self._lock = threading.Lock()

    def _load(self):
        with self._lock:
            if self._session is None:
                from tokenizers import Tokenizer

                model, vocab = self.folder / "model.onnx", self.folder / "tokenizer.json"
                if not model.exists() or not vocab.exists():
                    raise NewsdeskError(f"the answer model is missing from {self.folder}: reinstall newsdesk, or "
                                        "train it with `python -m training.train_answer_model`")
                tokenizer = Tokenizer.from_file(str(vocab))
                tokenizer.enable_truncation(MAX_TOKENS, strategy="longest_first")  # a long thread trims the question too
                tokenizer.enable_padding()
                self._tokenizer = tokenizer
                self._session = cpu_session(model)

    @property
    def min_probability(self) -> float:
        """The probability below which no sentence reads as an answer, chosen for these
        weights (`calibration.json`); 0, the refusal off, when none was chosen."""
        path = self.folder / CALIBRATION
        if not path.exists():
            return 0.0
        try:
            return float(json.loads(path.read_text(encoding="utf-8"))["min_answer_probability"])
        except (ValueError, KeyError, TypeError) as exc:
            raise NewsdeskError(f"{path} is not a valid calibration file ({exc}): reinstall newsdesk, or "
                                "write it as training/README.md says") from exc

    def logits(self, question: str, sentences: Sequence[str]) -> np.ndarray:
        """One logit per sentence: above 0 means more likely than not to state the answer.

        Read in batches. The int8 model scales its activations per batch, so a sentence's
        probability moves with its batch-mates and their padding (by up to 0.10, mean 0.005;
        78 of 240 composed dev answers changed when every sentence was read alone). Reading
        one at a time removes that but made `ask` 2.3 times slower on 2 cores (p50 460 against
        198 ms); an fp32 export, batched, would be deterministic too: untried."""
        if not sentences:
            return np.zeros(0, dtype=np.float32)
        if self._session is None:
            self._load()
        session, tokenizer = self._session, self._tokenizer
        out = []
        for i in range(0, len(sentences), self.batch_size):
            encoded = tokenizer.encode_batch([(question, s) for s in sentences[i:i + self.batch_size]])
            feed = {
                "input_ids": np.array([e.ids for e in encoded], dtype=np.int64),
                "attention_mask": np.array([e.attention_mask for e in encoded], dtype=np.int64),
                "token_type_ids": np.array([e.type_ids for e in encoded], dtype=np.int64),
            }
            out.append(session.run(["logits"], feed)[0].reshape(-1))
        return np.concatenate(out)

    def probabilities(self, question: str, sentences: Sequence[str]) -> np.ndarray:
        return sigmoid(self.logits(question, sentences))
