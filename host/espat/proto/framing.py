"""A payload as the exact AT+CIPSEND commands and byte chunks that carry it.

The module counts bytes, so lengths here are always `len(bytes)`: a UTF-8 body or one with CR LF gets the length
the wire will really see (the classic bug is counting characters and then letting `println` add two more).
Anything over 2048 bytes goes out as several sends, in order.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import List, Optional

from . import commands
from ..errors import LocalProtocolError, RemoteProtocolError
from .events import Recv

__all__ = ["SendChunk", "frame_send"]


@dataclass(frozen=True, slots=True)
class SendChunk:
    """One CIPSEND: write `command.line`, wait for the prompt, write `data`, expect `Recv len(data) bytes`."""
    command: commands.Command
    data: bytes

    def check_recv(self, event: Recv) -> None:
        """RemoteProtocolError when the module counted another number of bytes than were written."""
        if event.length != len(self.data):
            raise RemoteProtocolError(
                f"module received {event.length} bytes of a {len(self.data)}-byte send")


def frame_send(payload: bytes, link_id: Optional[int] = None, limit: int = commands.MAX_SEND) -> List[SendChunk]:
    """Split `payload` into CIPSEND chunks of at most `limit` bytes (`link_id` None with CIPMUX=0)."""
    if not isinstance(payload, (bytes, bytearray, memoryview)):
        raise LocalProtocolError(f"payload must be bytes, not {type(payload).__name__}; encode text first")
    if not 1 <= limit <= commands.MAX_SEND:
        raise LocalProtocolError(f"chunk limit {limit} is outside 1-{commands.MAX_SEND}")
    data = bytes(payload)
    if not data:
        raise LocalProtocolError("nothing to send: the payload is empty")
    return [SendChunk(commands.send(link_id, len(piece)), piece)
            for piece in (data[i:i + limit] for i in range(0, len(data), limit))]
