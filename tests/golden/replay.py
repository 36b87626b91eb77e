"""Playing a golden exchange: its host side to a module, its module side to espat's parser.

The module is the fake, driven directly on an event loop of our own (no thread, no serial layer), or a real one
on the serial port ESPAT_TEST_PORT names. Host bytes are written in the pieces a test chooses; the pieces of one
host step reach the fake with no time passing between them, as bytes a host writes at once cross a UART. While the
replay waits for the module's bytes, time passes (the fake's latencies are zero, so only work that is due runs).
"""
from __future__ import annotations

import asyncio
import dataclasses
import os
import socket
import time
from typing import Callable, Dict, List, Optional, Sequence

from espat.proto.parser import Parser

from golden.corpus import HOST, NOISE, PORT, DIALECTS, Exchange, chain, encode

__all__ = ["replay_fake", "replay_port", "parse_module_side", "cut", "NETWORK", "PASSWORD", "SERVER_NAME"]

NETWORK, PASSWORD = "HomeNet", "s3cr3t99"       # the access point every exchange joins
OTHER_NETWORK, OTHER_PASSWORD = "Elsewhere", ""  # an open network in range, for scans
SERVER_NAME = "example.com"                      # resolves to the exchange's loopback server
WAIT = 10.0                                      # bound on any wait for the module's bytes
LOOK_AGAIN = 0.05                                # while waiting: how often to ask whether anything can still come

Pieces = Callable[[int, bytes], List[bytes]]     # (step number, host bytes) -> the pieces to write


def whole(step: int, data: bytes) -> List[bytes]:
    return [data]


def bytewise(step: int, data: bytes) -> List[bytes]:
    return [data[i:i + 1] for i in range(len(data))]


def cut(data: bytes, points: Sequence[int]) -> List[bytes]:
    """`data` cut at `points` (taken modulo its length + 1); the pieces join back to `data`."""
    marks = sorted({p % (len(data) + 1) for p in points})
    pieces, last = [], 0
    for mark in marks + [len(data)]:
        pieces.append(data[last:mark])
        last = mark
    return [p for p in pieces if p] or [data]


class Mismatch(AssertionError):
    pass


def _fail(exchange: Exchange, step: int, expected: bytes, got: bytes) -> Mismatch:
    same = 0
    while same < min(len(expected), len(got)) and expected[same] == got[same]:
        same += 1
    return Mismatch(f"{exchange.dialect}/{exchange.name} step {step}: module bytes differ at byte {same}\n"
                    f"  expected: {encode(expected)}\n  got:      {encode(got)}")


# --- the loopback server --------------------------------------------------------------------------------------------

class LoopbackServer:
    """What an exchange's `server:` line asks for (see README.md): silent, greet, answer, with or without close."""

    def __init__(self, spec: str, expect_request: bytes) -> None:
        word, _, rest = spec.partition(" ")
        if word not in ("silent", "greet", "greet-close", "answer", "answer-close", "close"):
            raise ValueError(f"server: {spec!r} is not silent, greet, greet-close, answer, answer-close or close")
        from golden.corpus import decode
        self.word = word
        self.reply = decode(rest, "server:") if rest else b""
        self.expect = len(expect_request)
        self.received = bytearray()
        self.port = 0
        self._server: Optional[asyncio.base_events.Server] = None
        self._writers: List[asyncio.StreamWriter] = []

    async def start(self) -> None:
        self._server = await asyncio.start_server(self._client, "127.0.0.1", 0)
        self.port = self._server.sockets[0].getsockname()[1]

    async def _client(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self._writers.append(writer)
        try:
            if self.word.startswith("greet"):
                writer.write(self.reply)
                await writer.drain()
                if self.word == "greet-close":
                    writer.close()
                    return
            if self.word == "close" and not self.expect:
                writer.close()
                return
            answered = False
            while True:
                data = await reader.read(65536)
                if not data:
                    break
                self.received += data
                if not answered and len(self.received) >= max(1, self.expect):
                    answered = True
                    if self.word.startswith("answer"):
                        writer.write(self.reply)
                        await writer.drain()
                    if self.word in ("answer-close", "close"):
                        writer.close()
                        return
        except (ConnectionError, OSError):
            pass
        except asyncio.CancelledError:     # the replay is over and its loop is closing
            return

    def close(self) -> None:
        for writer in self._writers:
            writer.close()
        if self._server is not None:
            self._server.close()


# --- the fake -------------------------------------------------------------------------------------------------------

class FakeEnd:
    """The fake module on the running loop, its output collected."""

    def __init__(self, dialect: str, faults: Sequence[str], server_port: Optional[int]) -> None:
        from esp8266sim.config import SimConfig
        from esp8266sim.module import Module
        hosts = {SERVER_NAME: ("127.0.0.1", server_port)} if server_port else {}
        config = SimConfig(networks={NETWORK: PASSWORD, OTHER_NETWORK: OTHER_PASSWORD}, hosts=hosts,
                           dialect=DIALECTS[dialect], latency_scale=0, faults=list(faults), seed=1)
        self.out = bytearray()
        self.settled: Callable[[], bool] = lambda: True     # the exchange's end besides the module's bytes
        self._arrived = asyncio.Event()
        self.module = Module(config, output=self._output)
        self.module.start_timed_faults()
        self.module.boot()

    def _output(self, data: bytes) -> None:
        self.out += data
        self._arrived.set()

    def write(self, pieces: List[bytes]) -> None:
        for piece in pieces:
            self.module.feed(piece)

    async def _wait(self, done: Callable[[], bool], timeout: float) -> None:
        """Let the loop run until `done()`, `timeout` seconds passed, or nothing can happen any more: the fake, its
        links and the loopback server all live on this loop, so with no callback ready, no socket ready and no timer
        left at all (`_idle` and none scheduled) no byte can come; the bytes are all there will be, and waiting out
        the bound would only delay the mismatch (a pending exchange, a fake that answers short)."""
        loop = asyncio.get_running_loop()
        deadline = time.monotonic() + timeout
        while not done():
            self._arrived.clear()
            left = deadline - time.monotonic()
            if left <= 0:
                return
            if _idle(loop) and not _timers(loop) and self.settled():
                return
            try:                                    # woken by the module's bytes, or to look again
                await asyncio.wait_for(self._arrived.wait(), min(left, LOOK_AGAIN))
            except asyncio.TimeoutError:
                pass

    def _take(self, size: int) -> bytes:
        data = bytes(self.out[:size])
        del self.out[:size]
        return data

    async def read(self, size: int, timeout: float) -> bytes:
        await self._wait(lambda: len(self.out) >= size, timeout)
        return self._take(size)

    async def read_until(self, needle: bytes, timeout: float) -> bytes:
        await self._wait(lambda: needle in self.out, timeout)
        at = self.out.find(needle)
        return self._take(at + len(needle) if at >= 0 else len(self.out))

    async def rest(self) -> bytes:
        """Whatever the module still says once nothing more can happen without time passing (it should say
        nothing): the fake, its links and the loopback server all live on this loop, so that is when the loop has
        no callback ready, no timer due and no socket ready (loopback delivers a send at once). A timer due later
        is work the exchange did not wait for (a fault at t=SECONDS, CIPSTO): not this exchange's bytes, unless the
        loopback server has not yet received what the exchange says it gets (`settled`)."""
        loop = asyncio.get_running_loop()
        deadline = time.monotonic() + WAIT
        while time.monotonic() < deadline:
            if not _idle(loop):
                await asyncio.sleep(0)
            elif not self.settled():        # the server still waits for bytes a timer will send (passthrough)
                await asyncio.sleep(_next_timer(loop))
            else:
                break
        data = bytes(self.out)
        self.out.clear()
        return data

    def close(self) -> None:
        module = self.module
        for task in list(getattr(module, "_tasks", ())):
            task.cancel()
        net = getattr(module, "net", None)          # links and the server (a real listening socket)
        if net is not None:
            net.reset()


def _idle(loop: asyncio.AbstractEventLoop) -> bool:
    """Nothing on `loop` can run before its next timer: no ready callback, no timer due, no socket ready. Reads
    CPython's selector event loop (asyncio.run's); the selector is level-triggered, so asking it takes nothing."""
    if loop._ready:                                                         # type: ignore[attr-defined]
        return False
    now = loop.time()
    if any(not h.cancelled() and h.when() <= now for h in loop._scheduled):  # type: ignore[attr-defined]
        return False
    return not loop._selector.select(0)                                     # type: ignore[attr-defined]


def _timers(loop: asyncio.AbstractEventLoop) -> bool:
    """Whether any timer is still to run on `loop` (due or not)."""
    return any(not h.cancelled() for h in loop._scheduled)                 # type: ignore[attr-defined]


def _next_timer(loop: asyncio.AbstractEventLoop) -> float:
    """Seconds until the loop's next timer (0.01 when none: something outside the loop is awaited)."""
    due = [h.when() for h in loop._scheduled if not h.cancelled()]         # type: ignore[attr-defined]
    return max(0.0, min(due) - loop.time()) if due else 0.01


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _with_port(exchange: Exchange, port: int) -> Exchange:
    """`\\$port` in the steps becomes `port`, so two runs at once never listen on the same one."""
    number = b"%d" % port
    return dataclasses.replace(exchange, steps=tuple((d, data.replace(PORT, number)) for d, data in exchange.steps))


async def _play(end, exchange: Exchange, corpus: Dict[str, Exchange], pieces: Pieces) -> None:
    port = _free_port()
    for earlier in chain(exchange, corpus):
        await _steps(end, _with_port(earlier, port), whole)
    await _steps(end, _with_port(exchange, port), pieces)
    extra = await end.rest()
    if extra:
        raise Mismatch(f"{exchange.dialect}/{exchange.name}: the module said more after the last step: "
                       f"{encode(extra)}")


async def _steps(end, exchange: Exchange, pieces: Pieces) -> None:
    noise = False
    for number, (direction, data) in enumerate(exchange.steps, 1):
        if direction == HOST:
            end.write(pieces(number, data))
        elif direction == NOISE:
            noise = True                    # not pinned: whatever comes before the next step's bytes
        elif noise:
            noise = False
            got = await end.read_until(data, WAIT)
            if not got.endswith(data):
                raise _fail(exchange, number, data, got)
        else:
            got = await end.read(len(data), WAIT)
            if got != data:
                raise _fail(exchange, number, data, got)


def _plan(exchange: Exchange, corpus: Dict[str, Exchange]):
    """The server and faults the whole chain asks for: the exchange's own server wins, faults add up."""
    server, gets, faults = "", b"", []
    for item in chain(exchange, corpus) + [exchange]:
        if item.server:
            server = item.server
        if item.server_gets:
            gets = item.server_gets
        faults += item.faults
    return server, gets, faults


def server_sends(exchange: Exchange, corpus: Dict[str, Exchange]) -> bytes:
    """The bytes the chain's loopback server sends to the module (b"" when it sends none)."""
    spec = _plan(exchange, corpus)[0]
    return LoopbackServer(spec, b"").reply if spec else b""


def replay_fake(exchange: Exchange, corpus: Dict[str, Exchange], pieces: Pieces = whole) -> None:
    """Play `exchange` (after its given chain) against a fresh fake; AssertionError on the first difference."""
    async def run() -> None:
        spec, gets, faults = _plan(exchange, corpus)
        server = LoopbackServer(spec, gets) if spec else None
        if server is not None:
            await server.start()
        end = FakeEnd(exchange.dialect, faults, server.port if server else None)
        if server is not None and gets:
            end.settled = lambda: len(server.received) >= len(gets)
        try:
            await _play(end, exchange, corpus, pieces)
        finally:
            end.close()
            if server is not None:
                server.close()
        if server is not None and gets:
            assert bytes(server.received) == gets, (
                f"{exchange.dialect}/{exchange.name}: the server received {encode(bytes(server.received))}, "
                f"expected {encode(gets)}")
    asyncio.run(run())


# --- a real module --------------------------------------------------------------------------------------------------

class PortEnd:
    """A real module on a serial port: reset first, its `ready` taken as power-on."""

    def __init__(self, url: str, baudrate: int = 115200) -> None:
        import serial
        self.port = serial.serial_for_url(url, baudrate=baudrate, timeout=0.05)
        self.port.reset_input_buffer()
        self.port.write(b"AT+RST\r\n")
        self._held = b""
        self._until(b"OK\r\n", 5.0)     # a ready printed before the reset (a module just powered) goes with it
        booted = self._until(b"ready\r\n", 10.0)
        # the corpus's power-on step reads these bytes
        self._held = b"\r\nready\r\n" if booted.endswith(b"ready\r\n") else b""

    def _until(self, needle: bytes, timeout: float) -> bytes:
        got, self._held, deadline = self._held, b"", time.monotonic() + timeout
        while needle not in got and time.monotonic() < deadline:
            got += self.port.read(max(1, self.port.in_waiting))
        at = got.find(needle)
        if at >= 0:
            got, self._held = got[:at + len(needle)], got[at + len(needle):]
        return got

    def write(self, pieces: List[bytes]) -> None:
        for piece in pieces:
            self.port.write(_for_real(piece))
            self.port.flush()

    async def read(self, size: int, timeout: float) -> bytes:
        deadline = time.monotonic() + timeout
        got = self._held
        while len(got) < size and time.monotonic() < deadline:
            got += self.port.read(max(1, min(self.port.in_waiting, size - len(got))))
        data, self._held = got[:size], got[size:]
        return data

    async def read_until(self, needle: bytes, timeout: float) -> bytes:
        return self._until(needle, timeout)

    async def rest(self) -> bytes:
        time.sleep(0.3)
        data, self._held = self._held + self.port.read(self.port.in_waiting), b""
        return data

    def close(self) -> None:
        self.port.close()


def _for_real(data: bytes) -> bytes:
    """The corpus's access point is HomeNet; a real module joins the one ESPAT_WIFI_SSID/PASS name."""
    ssid, password = os.environ.get("ESPAT_WIFI_SSID"), os.environ.get("ESPAT_WIFI_PASS")
    if ssid is not None:
        data = data.replace(b'"%s"' % NETWORK.encode(), b'"%s"' % ssid.encode())
    if password is not None:
        data = data.replace(b'"%s"' % PASSWORD.encode(), b'"%s"' % password.encode())
    return data


def replay_port(url: str, exchange: Exchange, corpus: Dict[str, Exchange], pieces: Pieces = whole) -> None:
    """Play `exchange` against the real module at `url` (exchanges with no server and no fault only)."""
    async def run() -> None:
        end = PortEnd(url)
        try:
            await _play(end, exchange, corpus, pieces)
        finally:
            end.close()
    asyncio.run(run())


def runs_on_a_real_module(exchange: Exchange, corpus: Dict[str, Exchange]) -> bool:
    spec, _, faults = _plan(exchange, corpus)
    return not spec and not faults


# --- the parser -----------------------------------------------------------------------------------------------------

def module_stream(exchange: Exchange, corpus: Dict[str, Exchange]) -> bytes:
    """Every byte the module sends in the exchange, its given chain first: what a parser really reads."""
    return b"".join(item.module_bytes for item in chain(exchange, corpus) + [exchange]).replace(PORT, b"333")


def parse_module_side(exchange: Exchange, corpus: Dict[str, Exchange], pieces: Sequence[bytes]) -> list:
    parser = Parser(remote_info="remote_info" in exchange.parser)
    events = []
    for piece in pieces:
        events.extend(parser.receive_data(piece))
    assert parser.payload_missing == 0, f"{exchange.name}: the parser still waits for payload bytes at the end"
    return events
