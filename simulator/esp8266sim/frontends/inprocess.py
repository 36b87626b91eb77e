"""The host's end inside this process (Simulator.attach): what the `sim://` URL handler reads and writes.

An Inbox keeps what reached the host until it is read, with thread-safe reads that time out; named.py's RemoteEnd
keeps a named module's bytes in one too.
"""
from __future__ import annotations

import threading
import time
from typing import Optional

from .hostline import HostLine

__all__ = ["HostEnd", "Inbox"]


class Inbox:
    """What reached the host and waits to be read: thread-safe reads with timeouts."""

    def __init__(self) -> None:
        self._buf = bytearray()
        self._cond = threading.Condition()
        self.closed = False

    def deliver(self, data: bytes) -> None:
        with self._cond:
            self._buf += data
            self._cond.notify_all()

    def read(self, size: int, timeout: Optional[float]) -> bytes:
        deadline = None if timeout is None else time.monotonic() + timeout
        with self._cond:
            while len(self._buf) < size and not self.closed:
                left = None if deadline is None else deadline - time.monotonic()
                if left is not None and left <= 0:
                    break
                self._cond.wait(left)
            data = bytes(self._buf[:size])
            del self._buf[:size]
            return data

    @property
    def waiting(self) -> int:
        with self._cond:
            return len(self._buf)

    def clear(self) -> None:
        with self._cond:
            self._buf.clear()

    def close(self) -> None:
        with self._cond:
            self.closed = True
            self._cond.notify_all()


class HostEnd(Inbox):
    """The host's end of the line inside this process: reads, writes, a baud rate."""

    def __init__(self, sim: HostLine) -> None:
        super().__init__()
        self._sim = sim

    def write(self, data: bytes) -> None:
        self._sim.call(self._sim.from_host, bytes(data))

    def set_baud(self, baud: Optional[int]) -> None:
        self._sim.call(self._sim.wire.set_host_baud, baud)

    def close(self) -> None:
        super().close()
        self._sim.detach(self)
