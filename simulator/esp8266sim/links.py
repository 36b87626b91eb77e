"""The module's TCP/UDP links and its server, as real loopback sockets on the simulator's event loop.

A link tells its module what happens (`received`, `remote_closed`, `link_drained`); the module decides what the
host sees. Passive receive mode keeps a link's bytes here until AT+CIPRECVDATA takes them; past the window the
socket is no longer read, so the peer is held back by TCP itself, as on the real module.
"""
from __future__ import annotations

import asyncio
import time
from typing import TYPE_CHECKING, Optional, Tuple

if TYPE_CHECKING:
    from .module import Module

__all__ = ["Link", "LinkError", "Server", "PASSIVE_WINDOW"]

SEGMENT = 1460                  # what one TCP segment, and so one +IPD block, carries at most
PASSIVE_WINDOW = 5760           # bytes a link buffers in passive mode before TCP flow control holds the peer
CONNECT_TIMEOUT = 10.0


class LinkError(Exception):
    """The connection could not be made."""


class _Datagrams(asyncio.DatagramProtocol):
    def __init__(self, link: "Link") -> None:
        self.link = link

    def datagram_received(self, data: bytes, addr) -> None:
        self.link.module.received(self.link, data)

    def error_received(self, exc: Exception) -> None:       # ICMP port unreachable: UDP just loses it
        pass


class Link:
    def __init__(self, link_id: int, kind: str, host: str, port: int, module: "Module",
                 incoming: bool = False) -> None:
        self.id = link_id
        self.kind = kind
        self.host = host
        self.remote_ip = host
        self.remote_port = port
        self.local_port = 0
        self.module = module
        self.incoming = incoming
        self.buffer = bytearray()
        self.close_when_drained = False
        self.closed = False
        self.last_activity = time.monotonic()
        self._reader: Optional[asyncio.StreamReader] = None
        self._writer: Optional[asyncio.StreamWriter] = None
        self._udp: Optional[asyncio.DatagramTransport] = None
        self._task: Optional[asyncio.Task] = None
        self._resume = asyncio.Event()
        self._resume.set()

    async def open(self, target: Tuple[str, int], local_port: Optional[int] = None) -> None:
        loop = asyncio.get_running_loop()
        try:
            if self.kind == "UDP":
                local = ("127.0.0.1", local_port or 0)
                self._udp, _ = await loop.create_datagram_endpoint(lambda: _Datagrams(self), local_addr=local,
                                                                   remote_addr=target)
                self.local_port = self._udp.get_extra_info("sockname")[1]
            else:
                self._reader, self._writer = await asyncio.wait_for(asyncio.open_connection(*target),
                                                                    CONNECT_TIMEOUT)
                self.local_port = self._writer.get_extra_info("sockname")[1]
        except (OSError, asyncio.TimeoutError) as exc:
            raise LinkError(str(exc)) from None
        self.remote_ip = target[0]

    def attach(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        """An accepted server connection."""
        self._reader, self._writer = reader, writer
        peer = writer.get_extra_info("peername")
        self.remote_ip, self.remote_port = peer[0], peer[1]
        self.local_port = writer.get_extra_info("sockname")[1]

    def start_reading(self) -> None:
        if self._reader is not None:
            self._task = asyncio.get_running_loop().create_task(self._read_loop())

    async def _read_loop(self) -> None:
        assert self._reader is not None
        try:
            while True:
                await self._resume.wait()
                data = await self._reader.read(SEGMENT)
                if not data:
                    break
                self.last_activity = time.monotonic()
                self.module.received(self, data)
        except (OSError, asyncio.IncompleteReadError):
            pass
        if not self.closed:
            self.closed = True
            self._close_socket()
            self.module.remote_closed(self)

    async def send(self, data: bytes) -> bool:
        """Hand `data` to the socket; False when the link is broken."""
        self.last_activity = time.monotonic()
        if self._udp is not None:
            self._udp.sendto(data)
            return True
        if self._writer is None or self.closed:
            return False
        try:
            self._writer.write(data)
            await self._writer.drain()
        except (OSError, ConnectionError):
            return False
        return True

    def pause(self) -> None:
        self._resume.clear()

    def take(self, size: int) -> bytes:
        data = bytes(self.buffer[:size])
        del self.buffer[:size]
        return data

    def drained(self) -> None:
        """Data was read out of the buffer: read the socket again, tell the module."""
        if len(self.buffer) < PASSIVE_WINDOW:
            self._resume.set()
        self.module.link_drained(self)

    def _close_socket(self) -> None:
        if self._writer is not None:
            self._writer.close()
        if self._udp is not None:
            self._udp.close()

    def abort(self) -> None:
        """Close from this side (AT+CIPCLOSE, Wi-Fi lost, reset); the module reports it."""
        self.closed = True
        if self._task is not None and self._task is not asyncio.current_task():
            self._task.cancel()
        self._close_socket()


class Server:
    """AT+CIPSERVER: a listening socket on 127.0.0.1:<port>; each accepted connection takes the lowest free id."""

    def __init__(self, module: "Module", port: int) -> None:
        self.module = module
        self.port = port
        self._server: Optional[asyncio.base_events.Server] = None
        self._idle_task: Optional[asyncio.Task] = None

    async def start(self) -> None:
        self._server = await asyncio.start_server(self._accepted, "127.0.0.1", self.port)
        self._idle_task = asyncio.get_running_loop().create_task(self._idle_watch())

    async def _accepted(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        def make(link_id: int) -> Link:
            link = Link(link_id, "TCP", "", 0, self.module, incoming=True)
            link.attach(reader, writer)
            return link
        link = self.module.accept(make)
        if link is None:
            writer.close()
            return
        link.start_reading()

    async def _idle_watch(self) -> None:
        """CIPSTO: an incoming link idle for that many seconds is closed by the module."""
        while True:
            await asyncio.sleep(0.5)
            limit = self.module.server_timeout
            if not limit:
                continue
            now = time.monotonic()
            for link in list(self.module.links.values()):
                if link.incoming and now - link.last_activity > limit:
                    link.abort()
                    self.module.remote_closed(link)

    def close(self) -> None:
        if self._server is not None:
            self._server.close()
        if self._idle_task is not None:
            self._idle_task.cancel()
