"""The module's TCP/UDP/SSL links and its server: real loopback sockets on the simulator's event loop, behind a
network path that takes time.

A link reports what happens through `LinkEvents` (`received`, `remote_closed`, `link_drained`); whoever owns it
(the module) decides what the host sees. This file knows nothing of the module.

Time on the path, with `rtt` the round trip (config.LATENCY_KNOBS): opening a TCP link takes one rtt (SYN,
SYN-ACK), an SSL link two more (a TLS 1.2 handshake); a segment reaches the server rtt/2 after it left, and its
ACK comes back rtt/2 after that, which is when `send()` returns (so the module prints SEND OK one rtt after the
segment left); what the server sends reaches the module rtt/2 after the server sent it. So a reply can never reach
the module earlier than one rtt after the request left it. Everything that comes in on one link (data, ACKs, the
peer's close) passes one queue in order, so SEND OK always comes before the reply it caused, however late the
event loop wakes up.

The module's receive window: what a link read from its socket counts against WINDOW until its owner says it is
done with those bytes (`consumed`): in active mode once its +IPD blocks are out of the UART, in passive mode once
they sit in the link's buffer, which AT+CIPRECVDATA empties. While either is full the socket is no longer read, so
the peer is held back by TCP itself, as on the real module: a host that reads a long body slowly (or stops and
sends AT+CIPCLOSE) has at most a window's worth of it still coming down the UART, never the whole body.
"""
from __future__ import annotations

import asyncio
import collections
import ssl
from dataclasses import dataclass
from typing import Callable, Deque, List, Optional, Protocol, Set, Tuple

__all__ = ["Link", "LinkError", "LinkEvents", "Server", "ServerEvents", "TlsSettings", "WINDOW"]

SEGMENT = 1460                  # what one TCP segment, and so one +IPD block, carries at most
# The ESP8266's per-socket receive window. ESP8266_NONOS_SDK's lwipopts.h sets TCP_MSS 1460 and reads TCP_WND from
# the SDK at run time (espconn_tcp_set_wnd: a few MSS); esp-at's ESP8266 documentation of CIPRECVMODE gives the
# socket's window as 5760 bytes. Both modes hold at most this much of a link's data: passive mode in its buffer,
# active mode on its way out of the UART.
WINDOW = 5760
CONNECT_TIMEOUT = 10.0
TLS_HANDSHAKE_RTTS = 2          # a full TLS 1.2 handshake: ClientHello..ServerHelloDone, then the Finished pair


class LinkError(Exception):
    """The connection could not be made."""


class LinkEvents(Protocol):
    """What a link tells its owner. The owner calls `link.consumed(len(data))` for what `received` gave it once it
    is done with it; until then those bytes fill the link's receive window."""

    def received(self, link: "Link", data: bytes) -> None: ...

    def remote_closed(self, link: "Link") -> None: ...

    def link_drained(self, link: "Link") -> None: ...


class ServerEvents(LinkEvents, Protocol):
    """What a server asks of its owner besides: a link id for a new connection, and the idle limit (CIPSTO)."""
    server_timeout: int

    def accept(self, make: Callable[[int], "Link"]) -> Optional["Link"]: ...


@dataclass(frozen=True)
class TlsSettings:
    """What an "SSL" link is opened with; the module's SSL commands (AT+CIPSSLSIZE in 1.x, AT+CIPSSLCCONF and
    AT+CIPSSLCSNI in 2.x) build one and pass it to `Link(..., tls=...)`.

    verify False is 1.7's only behaviour and 2.x's default: no certificate is checked. With verify True the
    server's chain must lead to `ca_pem` (2.x CIPSSLCCONF with a CA in its PKI partition; without one every
    handshake fails, as on a module whose PKI partition holds no CA). `sni` is the name sent
    in the ClientHello (2.x CIPSSLCSNI; by default the name given to CIPSTART). `buffer_size` is 1.x's
    CIPSSLSIZE, kept with the link; Python's ssl cannot cap the size of the server's records with it."""
    verify: bool = False
    ca_pem: Optional[str] = None
    sni: Optional[str] = None
    buffer_size: int = 2048

    def context(self) -> ssl.SSLContext:
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        ctx.check_hostname = False
        if self.verify:
            ctx.verify_mode = ssl.CERT_REQUIRED
            if self.ca_pem:                 # none: no server can be trusted, the handshake fails
                ctx.load_verify_locations(cadata=self.ca_pem)
        else:
            ctx.verify_mode = ssl.CERT_NONE
        return ctx


_CLOSE = object()               # the peer's FIN, in a link's incoming queue


class _Path:
    """One direction of a link's network path: what is put in comes out `delay` seconds later, in order.

    An item that resolves a future (an ACK) ends a round: the next items wait for the task the future wakes to
    run first, so what that task says (SEND OK) comes before what follows on the path."""

    def __init__(self, delay: float, deliver: Callable[[object], None]) -> None:
        self.delay = delay
        self.deliver = deliver
        self._queue: Deque[Tuple[float, object]] = collections.deque()
        self._timer: Optional[asyncio.Handle] = None

    def put(self, item: object) -> None:
        loop = asyncio.get_running_loop()
        if not self.delay and not self._queue and self._timer is None:
            self.deliver(item)
            return
        self._queue.append((loop.time() + self.delay, item))
        if self._timer is None:
            self._timer = loop.call_at(self._queue[0][0], self._run)

    def _run(self) -> None:
        self._timer = None
        loop = asyncio.get_running_loop()
        while self._queue and self._queue[0][0] <= loop.time():
            _, item = self._queue.popleft()
            self.deliver(item)
            if isinstance(item, asyncio.Future):
                break
        if self._queue:
            if self._queue[0][0] <= loop.time():
                self._timer = loop.call_soon(self._run)         # after the woken task (FIFO ready queue)
            else:
                self._timer = loop.call_at(self._queue[0][0], self._run)

    def cancel(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        for _, item in self._queue:
            if isinstance(item, asyncio.Future) and not item.done():
                item.set_result(False)
        self._queue.clear()


class _Datagrams(asyncio.DatagramProtocol):
    def __init__(self, link: "Link") -> None:
        self.link = link

    def datagram_received(self, data: bytes, addr) -> None:
        self.link.incoming_path.put(data)

    def error_received(self, exc: Exception) -> None:       # ICMP port unreachable: UDP just loses it
        pass


class Link:
    def __init__(self, link_id: int, kind: str, host: str, port: int, events: LinkEvents,
                 incoming: bool = False, rtt: float = 0.0, tls: Optional[TlsSettings] = None) -> None:
        self.id = link_id
        self.kind = kind
        self.host = host
        self.remote_ip = host
        self.remote_port = port
        self.local_port = 0
        self.events = events
        self.incoming = incoming
        self.rtt = rtt
        self.tls = tls if tls is not None or kind != "SSL" else TlsSettings()
        self.buffer = bytearray()
        self.datagrams: List[int] = []      # passive UDP (2.x): the size of each datagram in the buffer, oldest first
        self.close_when_drained = False
        self.closed = False
        self.last_activity = asyncio.get_running_loop().time()
        self._reader: Optional[asyncio.StreamReader] = None
        self._writer: Optional[asyncio.StreamWriter] = None
        self._udp: Optional[asyncio.DatagramTransport] = None
        self._task: Optional[asyncio.Task] = None
        self.unconsumed = 0                 # read from the socket, not yet handed on by the owner (`consumed`)
        self._resume = asyncio.Event()      # set while the socket may be read (`_gate`)
        self._resume.set()
        self.incoming_path = _Path(rtt / 2, self._arrived)     # server -> module: data, ACKs, the FIN
        self.outgoing_path = _Path(rtt / 2, self._departed)    # module -> server: segments

    async def open(self, target: Tuple[str, int], local_port: Optional[int] = None) -> None:
        loop = asyncio.get_running_loop()
        try:
            if self.kind == "UDP":
                # The port the module was asked to send from is its own, on its own address: on loopback, shared
                # by every fake on this machine, the socket takes a free one (two fakes that both ask for 2390 are
                # two modules, not a clash), and the module says the one it was asked for (AT+CIPSTATUS).
                self._udp, _ = await loop.create_datagram_endpoint(lambda: _Datagrams(self),
                                                                   local_addr=("127.0.0.1", 0), remote_addr=target)
                self.local_port = local_port or self._udp.get_extra_info("sockname")[1]
            else:
                await asyncio.sleep(self.rtt)
                tls = {}
                if self.tls is not None:
                    tls = {"ssl": self.tls.context(), "server_hostname": self.tls.sni or self.host or None}
                self._reader, self._writer = await asyncio.wait_for(asyncio.open_connection(*target, **tls),
                                                                    CONNECT_TIMEOUT)
                self.local_port = self._writer.get_extra_info("sockname")[1]
                if self.tls is not None:
                    await asyncio.sleep(TLS_HANDSHAKE_RTTS * self.rtt)
        except (OSError, asyncio.TimeoutError, ssl.SSLError) as exc:
            raise LinkError(str(exc) or type(exc).__name__) from None
        self.remote_ip = target[0]

    def attach(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        """An accepted server connection."""
        self._reader, self._writer = reader, writer
        peer = writer.get_extra_info("peername")
        self.remote_ip, self.remote_port = peer[0], peer[1]
        self.local_port = writer.get_extra_info("sockname")[1]

    @property
    def encrypted(self) -> bool:
        """True when the socket really speaks TLS (an "SSL" link is never plain TCP)."""
        return self._writer is not None and self._writer.get_extra_info("ssl_object") is not None

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
                self.unconsumed += len(data)
                self._gate()
                self.incoming_path.put(data)
        except (OSError, asyncio.IncompleteReadError, ssl.SSLError):
            pass
        self.incoming_path.put(_CLOSE)

    def _arrived(self, item: object) -> None:
        if isinstance(item, asyncio.Future):
            if not item.done():
                item.set_result(not self.closed)
        elif self.closed:
            return
        elif item is _CLOSE:
            self.closed = True
            self._close_socket()
            self.events.remote_closed(self)
        else:
            self.last_activity = asyncio.get_running_loop().time()
            self.events.received(self, item)

    def _departed(self, item: object) -> None:
        data, acked = item
        if self._udp is not None:
            self._udp.sendto(data)
            return
        if self._writer is None or self.closed or self._writer.is_closing():
            acked.set_result(False)
            return
        try:
            self._writer.write(data)
        except (OSError, ConnectionError, RuntimeError):
            acked.set_result(False)
            return
        self.incoming_path.put(acked)          # the ACK's way back

    async def send(self, data: bytes) -> bool:
        """Send `data`; returns once the peer acknowledged it (UDP: at once), False when the link is broken."""
        self.last_activity = asyncio.get_running_loop().time()
        if self._udp is not None:
            self.outgoing_path.put((data, None))
            return True
        if self._writer is None or self.closed:
            return False
        acked = asyncio.get_running_loop().create_future()
        self.outgoing_path.put((data, acked))
        if not await acked:
            return False
        try:
            await self._writer.drain()
        except (OSError, ConnectionError):
            return False
        return True

    def _gate(self) -> None:
        """Read the socket only while a whole segment still fits the window and the passive buffer has room."""
        if self.unconsumed + SEGMENT <= WINDOW and len(self.buffer) < WINDOW:
            self._resume.set()
        else:
            self._resume.clear()

    def consumed(self, size: int) -> None:
        """The owner is done with `size` bytes it was given (`received`): they leave the window."""
        if self._reader is not None:            # UDP has no window: a datagram the module cannot take is lost
            self.unconsumed -= size
            self._gate()

    def take(self, size: int) -> bytes:
        """Up to `size` bytes of the buffer; of a UDP link's, of its oldest datagram only, whose rest is lost."""
        data = bytes(self.buffer[:min(size, self.datagrams[0]) if self.datagrams else size])
        del self.buffer[:self.datagrams.pop(0) if self.datagrams else size]
        return data

    def drained(self) -> None:
        """Data was read out of the buffer: read the socket again, tell the owner."""
        self._gate()
        self.events.link_drained(self)

    def _close_socket(self) -> None:
        if self._writer is not None:
            self._writer.close()
        if self._udp is not None:
            self._udp.close()

    def abort(self) -> None:
        """Close from this side (AT+CIPCLOSE, Wi-Fi lost, reset); the owner reports it."""
        self.closed = True
        if self._task is not None and self._task is not asyncio.current_task():
            self._task.cancel()
        self.incoming_path.cancel()
        self.outgoing_path.cancel()
        self._close_socket()


class Server:
    """AT+CIPSERVER: a listening socket on 127.0.0.1:<port>; each accepted connection takes the lowest free id."""

    def __init__(self, events: ServerEvents, port: int, rtt: float = 0.0) -> None:
        self.events = events
        self.port = port
        self.rtt = rtt
        self._server: Optional[asyncio.base_events.Server] = None
        self._idle_task: Optional[asyncio.Task] = None
        self._accepted: Set[Link] = set()

    async def start(self) -> None:
        self._server = await asyncio.start_server(self._accepted_connection, "127.0.0.1", self.port)
        self._idle_task = asyncio.get_running_loop().create_task(self._idle_watch())

    async def _accepted_connection(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        def make(link_id: int) -> Link:
            link = Link(link_id, "TCP", "", 0, self.events, incoming=True, rtt=self.rtt)
            link.attach(reader, writer)
            return link
        link = self.events.accept(make)
        if link is None:
            writer.close()
            return
        self._accepted.add(link)
        link.start_reading()

    async def _idle_watch(self) -> None:
        """CIPSTO: an incoming link idle for that many seconds is closed by the module."""
        while True:
            await asyncio.sleep(0.5)
            self._accepted = {link for link in self._accepted if not link.closed}
            limit = self.events.server_timeout
            if not limit:
                continue
            now = asyncio.get_running_loop().time()
            for link in list(self._accepted):
                if now - link.last_activity > limit:
                    link.abort()
                    self.events.remote_closed(link)

    def close(self) -> None:
        if self._server is not None:
            self._server.close()
        if self._idle_task is not None:
            self._idle_task.cancel()
