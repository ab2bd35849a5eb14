"""Syndicated copies: one story republished by many outlets is recognised at ingest.

Two articles are copies when the 5-word shingles of their normalised text (lower case, words
only) overlap with a Jaccard similarity of at least `threshold`, estimated from 128-value
MinHash signatures: the same text give or take a headline, a byline, a dateline or a
trailing paragraph. Copies form a story whose original is its earliest publication (by date,
then by when it was indexed). Search returns the original only; its citation names the
copies ("also in: …").

Signatures and stories live in SQLite in the data directory; the signatures of the whole
archive are compared in memory with numpy (128 small integers per article).
"""

from __future__ import annotations

import re
import sqlite3
import threading
import zlib
from collections.abc import Iterable, Iterator
from contextlib import closing, contextmanager
from pathlib import Path

import numpy as np

from .indexer import article_hash
from .models import Article

COPIES_FILE = "copies.sqlite3"
SHINGLE = 5
PERMUTATIONS = 128
THRESHOLD = 0.7
MIN_SHINGLES = 20  # shorter texts (a caption, a one-line brief) are never called copies
_PRIME = (1 << 31) - 1
_rng = np.random.default_rng(20240101)
_A = _rng.integers(1, _PRIME, PERMUTATIONS, dtype=np.int64)
_B = _rng.integers(0, _PRIME, PERMUTATIONS, dtype=np.int64)
_WORD = re.compile(r"[^\W_]+")

_SCHEMA = """
CREATE TABLE IF NOT EXISTS signatures (
    seq      INTEGER PRIMARY KEY AUTOINCREMENT,  -- order of indexing: breaks ties between dates
    doc_id   TEXT UNIQUE NOT NULL,
    date     TEXT NOT NULL,
    source   TEXT NOT NULL,
    digest   TEXT NOT NULL,
    sig      BLOB                                -- NULL when the text is too short to compare
);
CREATE TABLE IF NOT EXISTS copies (
    doc_id    TEXT PRIMARY KEY,
    original  TEXT NOT NULL
);
"""


def shingles(text: str, size: int = SHINGLE) -> set[int]:
    words = _WORD.findall(text.lower())
    return {zlib.crc32(" ".join(words[i:i + size]).encode()) & _PRIME for i in range(len(words) - size + 1)}


def signature(text: str) -> np.ndarray | None:
    """The MinHash signature of `text`, or None when it has fewer than MIN_SHINGLES shingles."""
    found = shingles(text)
    if len(found) < MIN_SHINGLES:
        return None
    values = np.fromiter(found, dtype=np.int64)
    return ((np.outer(_A, values) + _B[:, None]) % _PRIME).min(axis=1).astype(np.int32)


def jaccard(a: str, b: str) -> float:
    """The exact Jaccard similarity of two texts' shingles (for checks and tests)."""
    x, y = shingles(a), shingles(b)
    return len(x & y) / len(x | y) if x | y else 0.0


class _Signatures:
    """The archive's signatures in one growing array, compared with a new one at once."""

    def __init__(self):
        self.ids: list[str | None] = []
        self.rows: dict[str, int] = {}
        self.array = np.full((1024, PERMUTATIONS), -1, dtype=np.int32)  # -1 never equals a MinHash value

    def put(self, doc_id: str, sig: np.ndarray) -> None:
        if len(self.ids) == len(self.array):
            grown = np.full((2 * len(self.array), PERMUTATIONS), -1, dtype=np.int32)
            grown[:len(self.array)] = self.array
            self.array = grown
        self.rows[doc_id] = len(self.ids)
        self.array[len(self.ids)] = sig
        self.ids.append(doc_id)

    def drop(self, doc_id: str) -> None:
        row = self.rows.pop(doc_id, None)
        if row is not None:
            self.array[row] = -1
            self.ids[row] = None

    def nearest(self, sig: np.ndarray) -> tuple[str | None, float]:
        """The most similar article and the estimated Jaccard similarity."""
        if not self.rows:
            return None, 0.0
        similarity = (self.array[:len(self.ids)] == sig[None, :]).mean(axis=1)
        best = int(similarity.argmax())
        return self.ids[best], float(similarity[best])


class CopyIndex:
    """Which indexed articles are copies of which. Safe to share between threads."""

    def __init__(self, path: Path, threshold: float = THRESHOLD):
        self.path = path
        self.threshold = threshold
        path.parent.mkdir(parents=True, exist_ok=True)
        with self._db() as db:
            db.executescript(_SCHEMA)
        self._lock = threading.Lock()
        self._copies: dict[str, str] | None = None
        self._matrix: _Signatures | None = None
        self._mtime = 0.0

    @classmethod
    def in_dir(cls, data_dir: Path, threshold: float = THRESHOLD) -> CopyIndex:
        return cls(data_dir / COPIES_FILE, threshold)

    @contextmanager
    def _db(self) -> Iterator[sqlite3.Connection]:
        with closing(sqlite3.connect(self.path, timeout=30)) as db:
            with db:
                yield db

    # -- reading ---------------------------------------------------------------------------
    def _fresh(self) -> None:
        """Reload when another process (or this one) wrote since the last read."""
        mtime = self.path.stat().st_mtime if self.path.exists() else 0.0
        if self._copies is None or mtime != self._mtime:
            with self._db() as db:
                self._copies = dict(db.execute("SELECT doc_id, original FROM copies"))
            self._matrix = None
            self._mtime = mtime

    def copies(self) -> dict[str, str]:
        """copy id -> the id of its original, for every known copy."""
        with self._lock:
            self._fresh()
            return dict(self._copies)

    def copies_of(self, original: str) -> list[tuple[str, str]]:
        """(id, source) of the copies of `original`, in the order they were published."""
        with self._db() as db:
            return list(db.execute(
                "SELECT s.doc_id, s.source FROM copies c JOIN signatures s ON s.doc_id = c.doc_id "
                "WHERE c.original = ? ORDER BY s.date, s.seq", (original,)))

    # -- writing ---------------------------------------------------------------------------
    def update(self, articles: Iterable[Article]) -> int:
        """Compare new or changed articles with the archive and record the stories they join;
        returns how many articles were compared."""
        compared = 0
        with self._lock, self._db() as db:
            for article in articles:
                digest = article_hash(article)
                row = db.execute("SELECT digest FROM signatures WHERE doc_id = ?", (article.id,)).fetchone()
                if row is not None and row[0] == digest:
                    continue
                self._add(db, article, digest)
                compared += 1
            self._copies = None
        return compared

    def _signatures(self, db: sqlite3.Connection) -> _Signatures:
        if self._matrix is None:
            self._matrix = _Signatures()
            for doc_id, sig in db.execute("SELECT doc_id, sig FROM signatures WHERE sig IS NOT NULL ORDER BY seq"):
                self._matrix.put(doc_id, np.frombuffer(sig, dtype=np.int32))
        return self._matrix

    def _add(self, db: sqlite3.Connection, article: Article, digest: str) -> None:
        sig = signature(article.text)
        # The earliest publication is the original: a feed entry's time of day breaks ties.
        date = str(article.extra.get("published") or (article.date.isoformat() if article.date else "9999-99-99"))
        known = self._signatures(db)
        self._leave_story(db, article.id)
        known.drop(article.id)
        db.execute("DELETE FROM signatures WHERE doc_id = ?", (article.id,))
        db.execute("INSERT INTO signatures (doc_id, date, source, digest, sig) VALUES (?, ?, ?, ?, ?)",
                   (article.id, date, article.source, digest, sig.tobytes() if sig is not None else None))
        if sig is None:
            return
        match, similarity = known.nearest(sig)
        known.put(article.id, sig)
        if match is None or similarity < self.threshold:
            return
        root = (db.execute("SELECT original FROM copies WHERE doc_id = ?", (match,)).fetchone() or [match])[0]
        members = {root, article.id, *(r[0] for r in db.execute("SELECT doc_id FROM copies WHERE original = ?",
                                                                 (root,)))}
        placeholders = ",".join("?" * len(members))
        ordered = db.execute(f"SELECT doc_id FROM signatures WHERE doc_id IN ({placeholders}) ORDER BY date, seq",
                             sorted(members)).fetchall()
        original = ordered[0][0]
        db.execute(f"DELETE FROM copies WHERE doc_id IN ({placeholders})", sorted(members))
        db.executemany("INSERT INTO copies (doc_id, original) VALUES (?, ?)", [(m[0], original) for m in ordered[1:]])

    def _leave_story(self, db: sqlite3.Connection, doc_id: str) -> None:
        """Take an article out of its story (it changed, or is gone); if it was the original,
        the earliest of its copies becomes the original of the others."""
        db.execute("DELETE FROM copies WHERE doc_id = ?", (doc_id,))
        rest = db.execute("SELECT c.doc_id FROM copies c JOIN signatures s ON s.doc_id = c.doc_id "
                          "WHERE c.original = ? ORDER BY s.date, s.seq", (doc_id,)).fetchall()
        if rest:
            heir = rest[0][0]
            db.execute("DELETE FROM copies WHERE doc_id = ?", (heir,))
            db.execute("UPDATE copies SET original = ? WHERE original = ?", (heir, doc_id))

    def forget(self, doc_ids: Iterable[str]) -> None:
        """Articles deleted from the archive."""
        with self._lock, self._db() as db:
            for doc_id in doc_ids:
                self._leave_story(db, doc_id)
                db.execute("DELETE FROM signatures WHERE doc_id = ?", (doc_id,))
            self._copies, self._matrix = None, None

    def known(self) -> set[str]:
        with self._db() as db:
            return {r[0] for r in db.execute("SELECT doc_id FROM signatures")}
