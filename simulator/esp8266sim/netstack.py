"""The module's link table and what the host hears about links: `+IPD` (active or passive), CONNECT, CLOSED.

Links (links.py) report here (NetStack is their LinkEvents); this file decides the bytes [notes 5]:
- active mode: `+IPD,[<id>,]<len>[,<ip>,<port>]:<data>`, one block per TCP segment (1460 bytes); a block leaves
  the link's receive window once it is out of the UART, so the peer is held back while the host's line is busy;
- passive mode (CIPRECVMODE=1; 1.x TCP, 2.x TCP, SSL and UDP, each datagram read whole): a notice `+IPD,[<id>,]<total>` and the data waits for AT+CIPRECVDATA;
  1.x repeats the notice with the new total and reports CLOSED at once, 2.x notices once per empty buffer and holds
  CLOSED back until the data was read [5.2];
- `N,CLOSED` follows the last byte of the link's data directly [5.1].
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable, Dict, Optional

from .links import WINDOW, Link, Server
from .moduleapi import ModuleApi

__all__ = ["NetStack", "SEGMENT", "SendBuffer"]

SEGMENT = 1460
KEPT_RESULTS = 32       # how many segments' outcomes the firmware remembers for AT+CIPCHECKSEQ


@dataclass
class SendBuffer:
    """1.x's TCP send buffer of one link (AT+CIPSENDBUF): which segment is next and how the last ones went."""
    following: int = 1                  # the id the next segment gets
    sent: int = 0                       # the last segment sent
    sent_ok: int = 0                    # the last segment sent successfully
    results: Dict[int, bool] = field(default_factory=dict)     # segment id -> sent ok, the last KEPT_RESULTS

    @property
    def empty(self) -> bool:
        """No segment waits to go out."""
        return self.following - self.sent == 1

    def take(self) -> int:
        """The id of a new segment."""
        self.following += 1
        return self.following - 1

    def done(self, segment: int, ok: bool) -> None:
        self.sent = max(self.sent, segment)
        if ok:
            self.sent_ok = max(self.sent_ok, segment)
        self.results[segment] = ok
        for old in [s for s in self.results if s <= segment - KEPT_RESULTS]:
            del self.results[old]


class NetStack:
    def __init__(self, module: ModuleApi) -> None:
        self.module = module
        self.links: Dict[int, Link] = {}
        self.passthrough: Optional[Link] = None     # the link every host byte goes to, its data to the host raw
        self.draining: Dict[int, Link] = {}    # 1.x: closed links whose passive data is still unread
        self.server: Optional[Server] = None
        self.had_link = False
        self.send_buffers: Dict[int, SendBuffer] = {}      # 1.x CIPSENDBUF, per link id

    @property
    def mux(self) -> bool:
        return bool(self.module.state["mux"])

    @property
    def server_timeout(self) -> int:
        """CIPSTO, which the server reads (ServerEvents)."""
        return self.module.state["server_timeout"]

    def reset(self) -> None:
        self.passthrough = None
        for link in list(self.links.values()):
            link.abort()
        if self.server is not None:
            self.server.close()
        self.links.clear()
        self.draining.clear()
        self.server = None
        self.had_link = False
        self.send_buffers.clear()

    def closed_line(self, link_id: int) -> bytes:
        return b"%d,CLOSED\r\n" % link_id if self.mux else b"CLOSED\r\n"

    def connect_line(self, link_id: int) -> bytes:
        return b"%d,CONNECT\r\n" % link_id if self.mux else b"CONNECT\r\n"

    def opened(self, link: Link) -> None:
        self.links[link.id] = link
        self.had_link = True
        self.draining.pop(link.id, None)
        self.send_buffers[link.id] = SendBuffer()

    def send_buffer(self, link_id: int) -> SendBuffer:
        return self.send_buffers.setdefault(link_id, SendBuffer())

    def buffered(self, link_id: int) -> Optional[Link]:
        """The link whose passive data AT+CIPRECVDATA reads: open, or closed with data left (1.x)."""
        return self.links.get(link_id) or self.draining.get(link_id)

    # --- from the links ---------------------------------------------------------------------------------------------

    def received(self, link: Link, data: bytes) -> None:
        module = self.module
        if link is self.passthrough:
            module.emit(data, then=lambda: link.consumed(len(data)))
            return
        state, profile = module.state, module.profile
        if state["recvmode"] and link.kind in profile.passive_kinds:
            if link.kind == "UDP":
                if len(link.buffer) + len(data) > WINDOW:
                    return                      # no room: a datagram is dropped, as UDP allows [5.2]
                link.datagrams.append(len(data))
            first = not link.buffer
            link.buffer += data
            if profile.passive_notice_each or first:
                total = len(link.buffer)
                module.emit(b"\r\n+IPD,%d,%d\r\n" % (link.id, total) if self.mux else b"\r\n+IPD,%d\r\n" % total)
            link.consumed(len(data))            # out of the window, into the buffer (which holds the socket when full)
            return
        for start in range(0, len(data), SEGMENT):
            piece = data[start:start + SEGMENT]
            head = b"\r\n+IPD,"
            if self.mux:
                head += b"%d," % link.id
            head += b"%d" % len(piece)
            if state["dinfo"]:
                ip = link.remote_ip.encode()
                head += (b',"%s",%d' if profile.quoted_dinfo_ip else b",%s,%d") % (ip, link.remote_port)
            module.emit(head + b":" + piece, then=lambda size=len(piece): link.consumed(size))

    def remote_closed(self, link: Link) -> None:
        """The peer closed, or CIPSTO ran out."""
        if self.links.get(link.id) is not link:
            return
        if self.module.state["recvmode"] and link.buffer and not self.module.profile.early_closed_passive:
            link.close_when_drained = True      # 2.x holds CLOSED back until the data was read
            return
        self.closed(link)

    def closed(self, link: Link) -> None:
        if self.links.get(link.id) is link:
            del self.links[link.id]
        if self.passthrough is link:
            self.passthrough = None
        if link.buffer:
            self.draining[link.id] = link
        self.module.emit(self.closed_line(link.id))

    def link_drained(self, link: Link) -> None:
        if link.buffer:
            return
        if self.draining.get(link.id) is link:
            del self.draining[link.id]
        if link.close_when_drained and self.links.get(link.id) is link:
            link.close_when_drained = False
            self.closed(link)

    def accept(self, link_factory: Callable[[int], Link]) -> Optional[Link]:
        """An incoming connection on the server: the lowest free id, or None when all are taken."""
        incoming = sum(1 for lk in self.links.values() if lk.incoming)
        free = [i for i in range(5) if i not in self.links]
        if not free or incoming >= self.module.state["server_max"]:
            return None
        link = link_factory(free[0])
        self.links[link.id] = link
        self.module.emit(self.connect_line(link.id))
        return link

    def drop_all(self) -> None:
        """Wi-Fi went away: every link closes and says so."""
        for link in sorted(self.links.values(), key=lambda lk: lk.id):
            link.abort()
            self.closed(link)
