"""Group commit: one thread owns every write, and commits whatever readings arrived while the last commit ran in one
transaction. A request is answered only after its transaction committed (so a 201 or 200 means "on disk"), many
requests share one fsync, and SQLite's one-writer-at-a-time never makes a request wait on a lock.
"""
from __future__ import annotations

import asyncio
import logging
import queue
import threading

from .store import Store, StoredRow, Unavailable

__all__ = ["Writer"]

log = logging.getLogger("espat.collect")
MAX_BATCH = 500
_STOP = object()


class Writer:
    def __init__(self, store: Store, loop: asyncio.AbstractEventLoop, on_stored=None) -> None:
        """Answers come back on `loop`, one wake-up per commit however many requests it answers. `on_stored(rows)`
        is called in the writer thread with the StoredRows of each commit that stored any."""
        self.store = store
        self.loop = loop
        self.on_stored = on_stored
        self._queue: queue.SimpleQueue = queue.SimpleQueue()
        self._closed = False
        self._lock = threading.Lock()
        self.commits = 0
        self._thread = threading.Thread(target=self._run, name="espat-collect-writer", daemon=True)
        self._thread.start()

    def submit(self, reading) -> asyncio.Future:
        """A future (of the writer's loop; call from it) of the reading's StoredRow if it was new, None if it was a
        repeat, a Conflict if its key names another reading, or Unavailable if the database said no."""
        future = self.loop.create_future()
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

    def _settle_later(self, futures: list, results: list | None = None, error: str = "") -> None:
        def settle() -> None:
            for i, future in enumerate(futures):
                if future.done():      # its request went away (client disconnected)
                    continue
                if error:
                    future.set_exception(Unavailable(error))
                else:
                    future.set_result(results[i])
        try:
            self.loop.call_soon_threadsafe(settle)
        except RuntimeError:           # the loop is closed: nobody is waiting any more
            pass

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
        futures = [future for _, future in batch]
        try:
            results = self.store.store([reading for reading, _ in batch])
        except Unavailable as exc:
            log.warning("%d reading(s) not stored: %s", len(batch), exc)
            self._settle_later(futures, error=str(exc))
            return
        except Exception as exc:  # a bug must not leave requests waiting forever
            log.exception("store failed")
            self._settle_later(futures, error=f"store failed: {exc}")
            return
        self.commits += 1
        self._settle_later(futures, results)
        stored = [r for r in results if isinstance(r, StoredRow)]
        if stored and self.on_stored is not None:
            try:
                self.on_stored(stored)
            except Exception:
                log.exception("live update failed")
