"""Group commit: one thread owns every write, and commits whatever readings arrived while the last commit ran in one
transaction. A request is answered only after its transaction committed (so a 201 or 200 means "on disk"), many
requests share one fsync, and SQLite's one-writer-at-a-time never makes a request wait on a lock.
"""
from __future__ import annotations

import logging
import queue
import threading
from concurrent.futures import Future

from .store import Store, Unavailable

__all__ = ["Writer"]

log = logging.getLogger("espat.collect")
MAX_BATCH = 500
_STOP = object()


class Writer:
    def __init__(self, store: Store, on_stored=None) -> None:
        """`on_stored(rows)` is called in the writer thread with the StoredRows of each commit that stored any."""
        self.store = store
        self.on_stored = on_stored
        self._queue: queue.SimpleQueue = queue.SimpleQueue()
        self._closed = False
        self._lock = threading.Lock()
        self.commits = 0
        self._thread = threading.Thread(target=self._run, name="espat-collect-writer", daemon=True)
        self._thread.start()

    def submit(self, reading) -> Future:
        """A Future of the reading's StoredRow (new) or None (a repeat); Unavailable if the database said no."""
        future: Future = Future()
        with self._lock:
            if self._closed:
                future.set_exception(Unavailable("the collector is stopping"))
            else:
                self._queue.put((reading, future))
        return future

    def close(self) -> None:
        """Stores everything submitted so far, then stops the thread."""
        with self._lock:
            if self._closed:
                return
            self._closed = True
            self._queue.put(_STOP)
        self._thread.join()

    def _run(self) -> None:
        stopping = False
        while not stopping:
            item = self._queue.get()
            if item is _STOP:
                break
            batch = [item]
            while len(batch) < MAX_BATCH:
                try:
                    item = self._queue.get_nowait()
                except queue.Empty:
                    break
                if item is _STOP:
                    stopping = True
                    break
                batch.append(item)
            self._commit(batch)

    def _commit(self, batch: list) -> None:
        try:
            results = self.store.store([reading for reading, _ in batch])
        except Unavailable as exc:
            log.warning("%d reading(s) not stored: %s", len(batch), exc)
            for _, future in batch:
                future.set_exception(Unavailable(str(exc)))
            return
        except Exception as exc:  # a bug must not leave requests waiting forever
            log.exception("store failed")
            for _, future in batch:
                future.set_exception(Unavailable(f"store failed: {exc}"))
            return
        self.commits += 1
        for (_, future), result in zip(batch, results):
            future.set_result(result)
        stored = [r for r in results if r is not None]
        if stored and self.on_stored is not None:
            try:
                self.on_stored(stored)
            except Exception:
                log.exception("live update failed")
