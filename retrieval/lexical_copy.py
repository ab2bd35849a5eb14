"""The BM25 copy of the store that searches read, kept in step with the store.

A copy is saved beside the store (retrieval/lexical_store.py), labelled with the store's
generation: the index run that changed the store saves it, under the writer lock, and every
process that starts at that generation memory-maps it. Another process or machine (a CLI run, a second bot on a Chroma server) may
write to the store too: its writes change the store's generation, which is checked at most
every `check_seconds`; a changed store is copied afresh in a background thread while
searches go on with the current copy, which is then swapped whole.
"""

from __future__ import annotations

import contextlib
import logging
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

from .lexical import LexicalIndex
from .lexical_store import LexicalFiles
from .store import ChunkStore

log = logging.getLogger(__name__)


class LexicalCopy:
    def __init__(self, store: ChunkStore, folder: Path, *, check_seconds: float = 10.0,
                 clock: Callable[[], float] = time.monotonic):
        self.store = store
        self.folder = folder
        self.check_seconds = check_seconds
        self._clock = clock  # tests pass their own, to make a check due
        self._index: LexicalIndex | None = None
        self._generation = ""  # the store's generation the copy was loaded at
        self._checked = 0.0
        self._rebuild: threading.Thread | None = None
        self._writing = 0  # write runs of this process under way: they swap the copy at their end
        self._lock = threading.Lock()

    @classmethod
    def beside(cls, store: ChunkStore, data_dir: Path, **options) -> LexicalCopy:
        """The copy of `store` kept in `data_dir` (one folder per collection)."""
        return cls(store, data_dir / "bm25" / store.collection_name, **options)

    @property
    def loaded(self) -> bool:
        return self._index is not None

    def idf(self, term: str) -> float:
        return self.current().idf(term)

    def newest(self) -> int:
        """The newest article date (YYYYMMDD) in the copy; 0 when none is dated."""
        return self.current().newest()

    def current(self) -> LexicalIndex:
        """The BM25 copy. When another process has changed the store since it was loaded, a
        fresh copy is built in the background; searches use the current one meanwhile."""
        with self._lock:
            if self._index is None:
                self._generation = self.store.generation()
                self._index = self._load_or_build(self._generation)
                self._checked = self._clock()
                return self._index
            current, seen = self._index, self._generation
            if self._rebuild is not None or self._writing or self._clock() - self._checked < self.check_seconds:
                return current
            self._checked = self._clock()  # this caller checks; the others go on meanwhile
        generation = self.store.generation()
        if generation != seen:
            with self._lock:
                if self._rebuild is None:
                    self._rebuild = threading.Thread(target=self._rebuild_in_background, args=(generation,),
                                                     name="newsdesk-bm25", daemon=True)
                    self._rebuild.start()
        return current

    @contextlib.contextmanager
    def writing(self) -> Iterator[None]:
        """While this process writes, no check starts a rebuild: the run reloads at its end."""
        with self._lock:
            self._writing += 1
        try:
            yield
        finally:
            with self._lock:
                self._writing -= 1

    def reload(self, generation: str) -> None:
        """Load (or build) the copy of the store at `generation` now: after this process wrote,
        holding the writer lock (so it saves the copy for the processes that start next)."""
        self._swap(self._load_or_build(generation, writer=True), generation)

    def wait(self, timeout: float | None = None) -> None:
        """Wait for a background rebuild, if one is running."""
        thread = self._rebuild
        if thread is not None:
            thread.join(timeout)

    def _rebuild_in_background(self, generation: str) -> None:
        try:
            fresh = self._load_or_build(generation)
        except Exception:  # noqa: BLE001 - a background thread: log it, keep the current copy, retry later
            log.exception("could not rebuild the BM25 index; searches keep the current copy")
            with self._lock:
                self._rebuild = None
            return
        self._swap(fresh, generation)

    def _swap(self, fresh: LexicalIndex, generation: str) -> None:
        with self._lock:
            # Swapped whole: searches never see a half-built index.
            self._index, self._generation, self._checked = fresh, generation, self._clock()
            self._rebuild = None

    def _load_or_build(self, generation: str, *, writer: bool = False) -> LexicalIndex:
        """The BM25 copy of the store's content at `generation` (read before the content): the
        saved one when it was built at that generation, else one built from a paged read of
        the store and saved for the next process. A writer (holding the writer lock) always
        saves; a reader only when no other process is saving meanwhile."""
        files = LexicalFiles(self.folder)
        saved = files.load(generation)
        if saved is not None:
            return saved
        rows = ((c.id, f"{c.metadata.get('title', '')}\n{c.text}", int(c.metadata.get("date_num", 0)))
                for c in self.store.iter_chunks())
        index = LexicalIndex.from_rows(rows, generation)
        if generation:
            files.save(index, wait=writer, still_current=lambda: self.store.generation() == generation)
        return index
