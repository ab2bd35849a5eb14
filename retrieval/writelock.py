"""One writer at a time per index: a file lock for the embedded store, a lease on a server.

Index runs take the lock; readers (searches, the bot answering) never do. A second writer
either waits (saying so once through `on_wait`) or gets an IndexBusyError at once.
"""

from __future__ import annotations

import fcntl
import os
import threading
import time
import uuid
from collections.abc import Callable
from contextlib import contextmanager
from pathlib import Path

from .errors import IndexBusyError

BUSY = "another index run is writing to this archive"
OnWait = Callable[[], None]


class FileWriterLock:
    """An advisory `flock` on a file in the data directory. The kernel releases it when its
    process dies, even by `kill -9`, so a crashed run never leaves the index locked."""

    def __init__(self, path: Path, poll_s: float = 0.2):
        self.path = path
        self.poll_s = poll_s

    @contextmanager
    def hold(self, *, wait: bool = False, on_wait: OnWait | None = None):
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            told = False
            while True:
                try:
                    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                    break
                except BlockingIOError:
                    if not wait:
                        raise IndexBusyError(f"{BUSY}; try again when it has finished") from None
                    if on_wait and not told:
                        on_wait()
                        told = True
                    time.sleep(self.poll_s)
            yield
        finally:
            os.close(fd)  # closing the descriptor releases the lock


class LeaseWriterLock:
    """A lease record in the store, for writers on different machines sharing a Chroma server.

    Chroma has no compare-and-set, so a writer takes a free (or expired) lease, waits
    `settle_s`, and holds it only if its own token is still the one written. The holder
    renews the lease every `ttl_s / 3`; a writer that dies lets it expire after `ttl_s`."""

    LEASE_ID = "newsdesk:writer-lease"

    def __init__(self, store, ttl_s: float = 30.0, settle_s: float = 0.5, poll_s: float = 1.0):
        self.store = store
        self.ttl_s = ttl_s
        self.settle_s = settle_s
        self.poll_s = poll_s

    def _try(self, token: str) -> bool:
        lease = self.store.read_lease(self.LEASE_ID)
        if lease and lease.get("owner") != token and float(lease.get("expires", 0)) > time.time():
            return False
        self.store.write_lease(self.LEASE_ID, {"owner": token, "expires": time.time() + self.ttl_s})
        time.sleep(self.settle_s)  # let a writer that read the same free lease write its own
        lease = self.store.read_lease(self.LEASE_ID)
        return bool(lease) and lease.get("owner") == token

    @contextmanager
    def hold(self, *, wait: bool = False, on_wait: OnWait | None = None):
        token = uuid.uuid4().hex
        told = False
        while not self._try(token):
            if not wait:
                raise IndexBusyError(f"{BUSY}; try again when it has finished")
            if on_wait and not told:
                on_wait()
                told = True
            time.sleep(self.poll_s)
        stop = threading.Event()

        def renew():
            while not stop.wait(self.ttl_s / 3):
                try:
                    self.store.write_lease(self.LEASE_ID, {"owner": token, "expires": time.time() + self.ttl_s})
                except Exception:  # the server is away: the run's own calls will fail and say so
                    pass

        renewer = threading.Thread(target=renew, name="newsdesk-lease", daemon=True)
        renewer.start()
        try:
            yield
        finally:
            stop.set()
            try:
                lease = self.store.read_lease(self.LEASE_ID)
                if lease and lease.get("owner") == token:
                    self.store.write_lease(self.LEASE_ID, None)
            except Exception:  # unreachable: the lease expires by itself
                pass
