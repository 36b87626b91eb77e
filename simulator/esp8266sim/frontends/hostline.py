"""What a front end sees of the simulator: the host's end of the serial line, and the loop it runs on.

simulator.Simulator implements it; the front ends (tcp.py, pty.py, inprocess.py) import this file, not the
simulator, so the simulator can build on them without a circle.
"""
from __future__ import annotations

import asyncio
from typing import Any, Callable, Optional, Protocol

from ..config import SimConfig
from ..wire import Wire

__all__ = ["HostLine"]


class HostLine(Protocol):
    loop: asyncio.AbstractEventLoop
    config: SimConfig
    wire: Wire

    def call(self, fn: Callable[..., Any], *args: Any) -> Any:
        """Run `fn(*args)` on the loop, from another thread; returns its result."""

    def connect_host(self, sink: Optional[Callable[[bytes], None]]) -> None:
        """A host is on the line now, `sink` takes what the module says (None: it left). On the loop only."""

    def from_host(self, data: bytes) -> None:
        """Bytes a front end got from its host, for the wire. On the loop only."""

    def add_closer(self, closer: Callable[[], None]) -> None:
        """Run `closer` on the loop when the simulator closes."""

    def detach(self, end: Any) -> None:
        """An in-process end went away."""
