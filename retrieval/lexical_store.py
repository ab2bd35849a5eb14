"""BM25 copies saved beside the store, each labelled with the store's generation.

A copy is built from the store's chunks once per generation (by the index run that made it,
under the writer lock) and saved here; every process that starts at the same generation
memory-maps it instead of reading every chunk again. A copy is trusted only at the
generation it was built at, and the store starts a new generation before every write, so a
copy is never taken for current content it was not built from.

A save never changes a file a reader may be using. It writes a new folder under a temporary
name, renames it into place whole, and then switches `CURRENT` (one small file replaced
atomically) to name it. A process killed at any moment leaves `CURRENT` naming either the
old complete copy, labelled with the old generation, or the new complete one; leftovers are
removed by the next save. One process saves at a time (a file lock), so the clean-up never
removes a folder being written.

    folder/CURRENT            the name of the current copy's folder
    folder/v-<random>/        labels.json, ids.bin + ids.offsets.npy, dates.npy, bm25/ (bm25s)

A copy in the earlier layout (folder/ids.json beside folder/bm25/) is read until the next
save replaces it.
"""

from __future__ import annotations

import fcntl
import json
import os
import shutil
import uuid
from collections.abc import Callable, Sequence
from contextlib import contextmanager
from pathlib import Path

import numpy as np

from .lexical import LexicalIndex

CURRENT = "CURRENT"
FORMAT = 1


class PackedIds(Sequence[str]):
    """Chunk ids as one UTF-8 blob and their offsets: memory-mapped, read one at a time."""

    def __init__(self, blob: np.ndarray, offsets: np.ndarray):
        self._blob = blob
        self._offsets = offsets

    @staticmethod
    def write(ids: Sequence[str], folder: Path) -> None:
        encoded = [i.encode() for i in ids]
        offsets = np.zeros(len(encoded) + 1, dtype=np.int64)
        np.cumsum([len(e) for e in encoded], out=offsets[1:])
        (folder / "ids.bin").write_bytes(b"".join(encoded))
        np.save(folder / "ids.offsets.npy", offsets)

    @classmethod
    def read(cls, folder: Path) -> PackedIds:
        offsets = np.load(folder / "ids.offsets.npy", mmap_mode="r")
        blob_path = folder / "ids.bin"
        # np.memmap refuses an empty file: an empty index has no ids to map.
        blob = np.memmap(blob_path, dtype=np.uint8, mode="r") if blob_path.stat().st_size else np.zeros(0, np.uint8)
        return cls(blob, offsets)

    def __len__(self) -> int:
        return len(self._offsets) - 1

    def __getitem__(self, index):
        if isinstance(index, slice):
            return [self[i] for i in range(*index.indices(len(self)))]
        if index < 0:
            index += len(self)
        if not 0 <= index < len(self):
            raise IndexError(index)
        return bytes(self._blob[int(self._offsets[index]):int(self._offsets[index + 1])]).decode()


class LexicalFiles:
    """The folder of saved BM25 copies for one collection."""

    def __init__(self, folder: Path):
        self.folder = folder

    def load(self, generation: str) -> LexicalIndex | None:
        """The saved copy built at `generation`, memory-mapped; None when there is none (no
        copy, or one of another generation: stale, or built by a run that did not finish)."""
        if not generation:
            return None
        if not (self.folder / CURRENT).exists() and (self.folder / "ids.json").exists():
            return self._legacy(generation)
        for _attempt in range(2):  # a save may replace the copy between reading CURRENT and its files
            try:
                copy = self.folder / (self.folder / CURRENT).read_text().strip()
                labels = json.loads((copy / "labels.json").read_text())
                if labels.get("format") != FORMAT or labels.get("generation") != generation:
                    return None
                return self._read(copy, labels)
            except FileNotFoundError:
                if not (self.folder / CURRENT).exists():
                    return None
            except (OSError, ValueError, KeyError):
                return None
        return None

    def _legacy(self, generation: str) -> LexicalIndex | None:
        """A copy saved in the layout before this one (ids in ids.json beside bm25/), until the
        next index run saves one in this layout: an upgrade does not cost a rebuild."""
        try:
            labels = json.loads((self.folder / "ids.json").read_text())
            if labels.get("generation") != generation:
                return None
            model = None
            if labels["ids"]:
                import bm25s

                model = bm25s.BM25.load(str(self.folder / "bm25"), mmap=True, show_progress=False)
            return LexicalIndex(labels["ids"], labels["date_nums"], model, labels.get("fingerprint", ""), generation)
        except (OSError, ValueError, KeyError):
            return None

    @staticmethod
    def _read(copy: Path, labels: dict) -> LexicalIndex:
        model = None
        if labels["count"]:
            import bm25s

            model = bm25s.BM25.load(str(copy / "bm25"), mmap=True, show_progress=False)
        ids = PackedIds.read(copy)
        dates = np.load(copy / "dates.npy", mmap_mode="r")
        if len(ids) != labels["count"] or len(dates) != labels["count"]:
            raise ValueError(f"the BM25 copy in {copy} is incomplete")
        return LexicalIndex(ids, dates, model, labels.get("fingerprint", ""), labels["generation"])

    def save(self, index: LexicalIndex, *, wait: bool = True,
             still_current: Callable[[], bool] = lambda: True) -> bool:
        """Save `index` as the current copy; True if it now is. Without `wait`, give up when
        another process is saving. `still_current` is asked just before the switch: a copy
        whose generation has passed meanwhile is not worth switching to."""
        self.folder.mkdir(parents=True, exist_ok=True)
        with self._saving(wait) as ours:
            if not ours:
                return False
            self._clean(keep=None)
            temporary = self.folder / f".tmp-{uuid.uuid4().hex}"
            temporary.mkdir()
            if index._model is not None:
                index._model.save(str(temporary / "bm25"), show_progress=False)
            PackedIds.write(index.ids, temporary)
            np.save(temporary / "dates.npy", np.asarray(index.date_nums, dtype=np.int64))
            (temporary / "labels.json").write_text(json.dumps({
                "format": FORMAT, "generation": index.generation, "fingerprint": index.fingerprint,
                "count": len(index.ids)}))
            _sync_tree(temporary)
            final = self.folder / f"v-{uuid.uuid4().hex}"
            temporary.rename(final)
            if not still_current():
                shutil.rmtree(final, ignore_errors=True)
                return False
            pointer = self.folder / f".tmp-{uuid.uuid4().hex}.{CURRENT}"
            with open(pointer, "w") as handle:
                handle.write(final.name)
                handle.flush()
                os.fsync(handle.fileno())
            pointer.replace(self.folder / CURRENT)
            _sync_dir(self.folder)
            self._clean(keep=final.name)
            return True

    @contextmanager
    def _saving(self, wait: bool):
        with open(self.folder / ".save.lock", "w") as lock:
            try:
                fcntl.flock(lock, fcntl.LOCK_EX | (0 if wait else fcntl.LOCK_NB))
            except BlockingIOError:
                yield False
                return
            try:
                yield True
            finally:
                fcntl.flock(lock, fcntl.LOCK_UN)

    def _clean(self, keep: str | None) -> None:
        """Remove what earlier saves left: unfinished folders, and copies CURRENT no longer
        names (a process that has one mapped keeps reading it: unlinked files live on)."""
        try:
            current = keep or (self.folder / CURRENT).read_text().strip()
        except OSError:
            current = None
        for entry in self.folder.iterdir():
            if entry.name.startswith(".tmp-") or (entry.name.startswith("v-") and entry.name != current) \
                    or entry.name in ("bm25", "ids.json"):  # the layout before copies were versioned
                if entry.is_dir():
                    shutil.rmtree(entry, ignore_errors=True)
                else:
                    entry.unlink(missing_ok=True)


def _sync_tree(folder: Path) -> None:
    for path in sorted(folder.rglob("*"), reverse=True):
        if path.is_file():
            with open(path, "rb") as handle:
                os.fsync(handle.fileno())
        else:
            _sync_dir(path)
    _sync_dir(folder)


def _sync_dir(folder: Path) -> None:
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
