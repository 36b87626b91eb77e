"""What the session keeps: a command's reply, and what it knows of each link it opened."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import List, Type

from . import events as ev

__all__ = ["Reply", "LinkInfo"]


@dataclass
class Reply:
    """What the module said to one command: the lines before the final result, and that result."""
    events: List[ev.Event]
    final: ev.Event

    def of(self, kind: Type[ev.Event]) -> List[ev.Event]:
        return [e for e in self.events if isinstance(e, kind)]


@dataclass
class LinkInfo:
    id: int
    host: str
    port: int
    kind: str = "TCP"
    open: bool = True
    received: bytearray = field(default_factory=bytearray)
    waiting: int = 0            # passive mode: bytes the module said it holds for us
    read_after_close: bool = False
    damaged: bool = False       # the module's framing showed bytes of this link's data were lost or changed
    sent: int = 0               # payload bytes handed to the port for this link (the module may have passed them on)
    closing: bool = False       # CIPCLOSE was sent: its data is dropped as it comes, whether or not the close held
    garbled_before: int = 0     # the session's garbled count when the module opened it (see Session.verdict)
