"""The live page's feed: server-sent events of stored readings, read back from the database.

A commit in this process wakes every stream at once; a stream also looks every second, so readings stored by other
worker processes appear too. Each event carries the reading's id, so a browser that reconnects (EventSource does it
by itself, sending Last-Event-ID) gets exactly what it missed.
"""
from __future__ import annotations

import asyncio
import threading

from .formats import SSE_KEEPALIVE, SSE_START, sse_reading

__all__ = ["Wakeup", "stop_streams", "reading_events"]

POLL_S = 1.0
KEEPALIVE_S = 15.0
BACKLOG = 1000
_stopping = threading.Event()


def stop_streams() -> None:
    """Ends every event stream of this process (the server is shutting down)."""
    _stopping.set()


class Wakeup:
    """Tells waiting streams that something was stored; safe to call from the writer thread."""

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self._loop = loop
        self._event = asyncio.Event()

    def notify(self, _rows=None) -> None:
        self._loop.call_soon_threadsafe(self._event.set)

    async def wait(self, timeout: float) -> None:
        event = self._event
        try:
            await asyncio.wait_for(event.wait(), timeout)
        except asyncio.TimeoutError:
            pass
        if event.is_set():
            self._event = asyncio.Event()


async def reading_events(query, after_id: int, wakeup: Wakeup):
    """SSE text: every reading stored after `after_id`, then each new one as it is stored. `query(after_id)` runs
    in a worker thread and returns StoredRows, oldest first."""
    from starlette.concurrency import run_in_threadpool
    yield SSE_START
    quiet = 0.0
    while not _stopping.is_set():
        rows = await run_in_threadpool(query, after_id)
        for row in rows:
            after_id = row.id
            yield sse_reading(row)
        if rows:
            quiet = 0.0
            if len(rows) >= BACKLOG:
                continue
        elif quiet >= KEEPALIVE_S:
            yield SSE_KEEPALIVE
            quiet = 0.0
        await wakeup.wait(POLL_S)
        quiet += POLL_S
