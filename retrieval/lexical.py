"""A BM25 index (bm25s) over the same chunks as Chroma.

It is rebuilt from the store's chunks whenever the store's content changes, and carries the
store generation it was built at; `lexical_store` saves it beside the store and memory-maps
it back, trusting a saved copy only at that generation.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Sequence

import numpy as np
import Stemmer

_WORD = re.compile(r"[0-9A-Za-z\u00C0-\u024F]+(?:['’][A-Za-z]+)?")
_POSSESSIVE = ("'s", "’s")
_STEMMER = Stemmer.Stemmer("english")
# bm25s.stopwords.STOPWORDS_EN, copied (tests/test_onnx_embeddings.py checks it is the same):
# bm25s itself is imported only to build or load an index, not by commands that list sources.
STOPWORDS_EN = ("a", "an", "and", "are", "as", "at", "be", "but", "by", "for", "if", "in", "into", "is", "it", "no",
                "not", "of", "on", "or", "such", "that", "the", "their", "then", "there", "these", "they", "this",
                "to", "was", "will", "with")
STOPWORDS = frozenset(STOPWORDS_EN) | {
    "s", "t", "said", "says", "also", "would", "could", "one", "new", "week", "recently", "according",
}


def words(text: str) -> list[str]:
    """Lower-cased word tokens of `text`, possessive 's removed."""
    # A plain suffix test, not a regular expression per word: half the cost of tokenising,
    # which a BM25 build pays for every chunk (a token holds no newline for `$` to match).
    lowered = (w.lower() for w in _WORD.findall(text))
    return [w[:-2] if w.endswith(_POSSESSIVE) else w for w in lowered]


def terms(text: str) -> list[str]:
    """Stemmed content terms: what BM25 and the answer composer match on."""
    return _STEMMER.stemWords([w for w in words(text) if w not in STOPWORDS])


class LexicalIndex:
    """BM25 over chunk texts (with their article titles), searchable with a row mask."""

    def __init__(self, ids: Sequence[str], date_nums: Sequence[int], model: bm25s.BM25 | None, fingerprint: str,
                 generation: str = ""):
        self.ids = ids
        self.date_nums = np.asarray(date_nums, dtype=np.int64)
        self.fingerprint = fingerprint
        self.generation = generation  # the store's generation when the content was read ("" unknown)
        self._model = model

    @classmethod
    def build(cls, ids: list[str], texts: list[str], date_nums: list[int], fingerprint: str,
              generation: str = "") -> LexicalIndex:
        if not ids:
            return cls([], [], None, fingerprint, generation)
        import bm25s

        model = bm25s.BM25()
        # An empty document would break bm25s' vocabulary; a placeholder token matches nothing.
        model.index([terms(t) or ["\x00"] for t in texts], show_progress=False)
        return cls(list(ids), list(date_nums), model, fingerprint, generation)

    @classmethod
    def from_rows(cls, rows: Iterable[tuple[str, str, int]], generation: str = "", fingerprint: str = "") -> LexicalIndex:
        """The same index as `build`, from (chunk id, text, date number) rows read one page at
        a time: each text becomes token ids as it comes, so a million chunks' texts are never
        held at once, nor a million lists of strings."""
        ids: list[str] = []
        dates: list[int] = []
        vocab: dict[str, int] = {}
        docs: list[list[int]] = []
        for chunk_id, text, date_num in rows:
            ids.append(chunk_id)
            dates.append(date_num)
            # setdefault hands back the one int object stored in `vocab`: a document holds references.
            docs.append([vocab.setdefault(t, len(vocab)) for t in terms(text) or ["\x00"]])
        if not ids:
            return cls([], [], None, fingerprint, generation)
        import bm25s

        model = bm25s.BM25()
        model.index((docs, vocab), show_progress=False)
        return cls(ids, dates, model, fingerprint, generation)

    def idf(self, term: str) -> float:
        """How rare a stemmed term is among the chunks (BM25's idf); rare words carry meaning.

        A term the index has never seen gets the idf of a term found once."""
        if self._model is None:
            return 1.0
        total = self._model.scores["num_docs"]
        token = self._model.vocab_dict.get(term)
        indptr = self._model.scores["indptr"]
        found = int(indptr[token + 1] - indptr[token]) if token is not None else 1
        return math.log(1.0 + (total - found + 0.5) / (found + 0.5))

    def newest(self) -> int:
        """The newest article date (YYYYMMDD) in the index; 0 when none is dated."""
        return int(self.date_nums.max()) if len(self.date_nums) else 0

    def __len__(self) -> int:
        return len(self.ids)

    def search(self, query: str, k: int, *, until: int | None = None) -> list[tuple[str, float]]:
        """The k best chunks for `query` as (chunk id, BM25 score), best first.

        `until` (YYYYMMDD) leaves out articles dated after it; undated articles stay in.
        """
        query_terms = [t for t in terms(query) if t in self._model.vocab_dict] if self._model else []
        if not query_terms:
            return []
        scores = self._model.get_scores(query_terms)
        if until is not None:
            scores = np.where(self.date_nums <= until, scores, 0.0)
        k = min(k, len(scores))
        top = np.argpartition(-scores, k - 1)[:k]
        top = top[np.argsort(-scores[top], kind="stable")]
        return [(self.ids[i], float(scores[i])) for i in top if scores[i] > 0]
