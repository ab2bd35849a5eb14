"""Questions, answers and 👍/👎 votes, kept in SQLite in the data directory.

Each call opens its own short-lived connection, so the store can be used from any thread
(the application service, retrieval/app.py, writes from its one store thread) and survives
restarts.
"""

from __future__ import annotations

import datetime as dt
import sqlite3
from collections.abc import Iterator
from contextlib import closing, contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from .question import question_key

_SCHEMA = """
CREATE TABLE IF NOT EXISTS answers (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    asked_at    TEXT    NOT NULL,
    via         TEXT    NOT NULL,          -- 'slash' | 'mention'
    guild_id    INTEGER,
    channel_id  INTEGER,
    thread_id   INTEGER,                   -- the thread a mention was answered in
    user_id     INTEGER NOT NULL,
    question    TEXT    NOT NULL,
    answer      TEXT    NOT NULL,
    abstained   INTEGER NOT NULL,
    citations   INTEGER NOT NULL,
    abstained_because TEXT NOT NULL DEFAULT ''  -- retrieval.answers' ABSTAIN_* reason; '' when none
);
CREATE INDEX IF NOT EXISTS answers_thread ON answers (thread_id, id);
CREATE TABLE IF NOT EXISTS votes (
    answer_id   INTEGER NOT NULL REFERENCES answers (id),
    user_id     INTEGER NOT NULL,
    vote        INTEGER NOT NULL CHECK (vote IN (-1, 1)),
    voted_at    TEXT    NOT NULL,
    PRIMARY KEY (answer_id, user_id)
);
"""


@dataclass(frozen=True)
class Stats:
    """What `/stats` shows."""

    questions: int
    abstained: int
    votes_up: int
    votes_down: int
    # (question as most often phrased, times asked), most frequent first
    unanswered: list[tuple[str, int]] = field(default_factory=list)
    # (why the composer abstained, times), most frequent first; "" for answers stored
    # before reasons were recorded
    reasons: list[tuple[str, int]] = field(default_factory=list)

    @property
    def abstention_rate(self) -> float:
        return self.abstained / self.questions if self.questions else 0.0


class FeedbackStore:
    """Records every answered question and the votes on it."""

    def __init__(self, path: Path):
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with self._connect() as db:
            db.executescript(_SCHEMA)
            columns = {row[1] for row in db.execute("PRAGMA table_info(answers)")}
            if "abstained_because" not in columns:  # a store written by an earlier version
                db.execute("ALTER TABLE answers ADD COLUMN abstained_because TEXT NOT NULL DEFAULT ''")

    @contextmanager
    def _connect(self) -> Iterator[sqlite3.Connection]:
        with closing(sqlite3.connect(self.path, timeout=10)) as db:
            db.execute("PRAGMA foreign_keys = ON")
            with db:  # one transaction per call
                yield db

    def record_answer(
        self,
        *,
        via: str,
        user_id: int,
        question: str,
        answer: str,
        abstained: bool,
        citations: int,
        abstained_because: str = "",
        guild_id: int | None = None,
        channel_id: int | None = None,
        thread_id: int | None = None,
    ) -> int:
        """Store one answered question; returns the id the feedback buttons carry."""
        with self._connect() as db:
            cur = db.execute(
                "INSERT INTO answers (asked_at, via, guild_id, channel_id, thread_id, user_id,"
                " question, answer, abstained, citations, abstained_because)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (_now(), via, guild_id, channel_id, thread_id, user_id, question, answer,
                 int(abstained), citations, abstained_because),
            )
            return int(cur.lastrowid)

    def record_vote(self, answer_id: int, user_id: int, vote: int) -> bool:
        """Store (or change) one user's vote on an answer; False if the answer is unknown."""
        if vote not in (-1, 1):
            raise ValueError(f"vote must be 1 or -1, not {vote!r}")
        with self._connect() as db:
            if db.execute("SELECT 1 FROM answers WHERE id = ?", (answer_id,)).fetchone() is None:
                return False
            db.execute(
                "INSERT INTO votes (answer_id, user_id, vote, voted_at) VALUES (?, ?, ?, ?)"
                " ON CONFLICT (answer_id, user_id) DO UPDATE SET vote = excluded.vote,"
                " voted_at = excluded.voted_at",
                (answer_id, user_id, vote, _now()),
            )
            return True

    def thread_questions(self, thread_id: int) -> list[str]:
        """The questions already answered in a thread, oldest first."""
        with self._connect() as db:
            rows = db.execute(
                "SELECT question FROM answers WHERE thread_id = ? ORDER BY id", (thread_id,)
            ).fetchall()
        return [q for (q,) in rows]

    def stats(self, *, top: int = 5) -> Stats:
        with self._connect() as db:
            questions, abstained = db.execute(
                "SELECT COUNT(*), COALESCE(SUM(abstained), 0) FROM answers"
            ).fetchone()
            up, down = db.execute(
                "SELECT COALESCE(SUM(vote = 1), 0), COALESCE(SUM(vote = -1), 0) FROM votes"
            ).fetchone()
            unanswered = db.execute(
                "SELECT question FROM answers WHERE abstained = 1 ORDER BY id"
            ).fetchall()
            reasons = db.execute(
                "SELECT abstained_because, COUNT(*) AS n FROM answers WHERE abstained = 1"
                " GROUP BY abstained_because ORDER BY n DESC, abstained_because"
            ).fetchall()
        return Stats(questions, abstained, up, down, _most_frequent(q for (q,) in unanswered)[:top],
                     [(reason, n) for reason, n in reasons])


def _most_frequent(questions) -> list[tuple[str, int]]:
    """Group by normalized text; show the first phrasing seen; most asked first, then oldest."""
    groups: dict[str, list] = {}
    for q in questions:
        key = question_key(q)
        if key in groups:
            groups[key][1] += 1
        else:
            groups[key] = [q.strip(), 1]
    ranked = sorted(groups.values(), key=lambda g: -g[1])  # stable: ties keep first-asked order
    return [(q, n) for q, n in ranked]


def _now() -> str:
    return dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
