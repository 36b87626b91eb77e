"""Test helpers shared by every suite: loopback servers with exact replies, a byte-exact serial client, a scripted
port that answers what a test fed it."""
from __future__ import annotations

import asyncio
import socket
import threading
import time
from typing import Callable, List, Optional, Tuple

import serial

import esp8266sim  # noqa: F401  (registers sim://)

POST_REPLY = (b"HTTP/1.1 201 Created\r\nContent-Type: application/json\r\nContent-Length: 11\r\n"
              b"Connection: close\r\n\r\n{\"ok\":true}")
GET_REPLY = (b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 6\r\nConnection: close\r\n"
             b"\r\nhello\n")


def read_request(conn: socket.socket) -> Optional[Tuple[bytes, bytes]]:
    """One HTTP request from a connected socket: (head without its blank line, body of Content-Length bytes), or
    None when the peer closed before the head ended."""
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = conn.recv(4096)
        if not chunk:
            return None
        data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    length = 0
    for line in head.split(b"\r\n"):
        if line.lower().startswith(b"content-length:"):
            length = int(line.split(b":")[1])
    while len(body) < length:
        chunk = conn.recv(4096)
        if not chunk:
            break
        body += chunk
    return head, body


class ExactServer:
    """A loopback TCP server that reads one HTTP request, answers `reply(request)` and closes.

    With `trickle=(size, pause)` the answer goes out `size` bytes at a time, `pause` seconds apart: a slow server."""

    def __init__(self, reply: Callable[[bytes], bytes], trickle: Optional[Tuple[int, float]] = None) -> None:
        self.reply = reply
        self.trickle = trickle
        self.requests: List[bytes] = []
        self.got_request = threading.Event()
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(8)
        self.port = self.sock.getsockname()[1]
        self._stop = False
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self) -> None:
        while not self._stop:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            threading.Thread(target=self._handle, args=(conn,), daemon=True).start()

    def _handle(self, conn: socket.socket) -> None:
        conn.settimeout(10)
        try:
            request = read_request(conn)
            if request is None:
                return
            head, body = request
            request = head + b"\r\n\r\n" + body
            self.requests.append(request)
            self.got_request.set()
            answer = self.reply(request)
            size, pause = self.trickle or (len(answer), 0)
            for i in range(0, len(answer), max(1, size)):
                conn.sendall(answer[i:i + size])
                time.sleep(pause)       # pacing the answer, not waiting for anything
        except OSError:
            pass                        # a client that left mid-answer (or never asked) is no error of the server's
        finally:
            conn.close()

    def close(self) -> None:
        self._stop = True
        self.sock.close()


def record_posts(loop, bodies: list) -> int:
    """A loopback HTTP server on the virtual `loop` (esp8266sim.vclock.VirtualLoop) that appends each POST as
    (virtual time, body) to `bodies` and answers 201; its port."""
    async def handle(reader, writer):
        head = await reader.readuntil(b"\r\n\r\n")
        length = next(int(line.split(b":")[1]) for line in head.split(b"\r\n")
                      if line.lower().startswith(b"content-length:"))
        bodies.append((loop.time(), await reader.readexactly(length)))
        writer.write(b"HTTP/1.1 201 Created\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
        await writer.drain()
        writer.close()
    task = loop.create_task(asyncio.start_server(handle, "127.0.0.1", 0))
    loop.run_until(0.0)
    return task.result().sockets[0].getsockname()[1]


def serve_exact(loop, reply: Callable[[bytes], bytes], late: float = 0.0) -> Tuple[int, List[bytes]]:
    """ExactServer on the virtual `loop` (esp8266sim.vclock.VirtualLoop): reads one HTTP request per connection,
    waits `late` virtual seconds, answers `reply(request)` and closes. Its port, and the list the requests (head,
    blank line, body) are appended to. On the virtual clock the answer leaves when the request is whole plus `late`,
    whatever the machine's load: a thread's server would answer at some later virtual time."""
    requests: List[bytes] = []

    async def handle(reader, writer):
        try:
            head = await reader.readuntil(b"\r\n\r\n")
            length = 0
            for line in head.split(b"\r\n"):
                if line.lower().startswith(b"content-length:"):
                    length = int(line.split(b":")[1])
            request = head + await reader.readexactly(length)
            requests.append(request)
            if late:
                await asyncio.sleep(late)
            writer.write(reply(request))
            await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError):
            pass                        # a client that left mid-request or mid-answer, as ExactServer allows
        finally:
            writer.close()
    task = loop.create_task(asyncio.start_server(handle, "127.0.0.1", 0))
    loop.run_until(loop.time())
    return task.result().sockets[0].getsockname()[1], requests


class PtyReader:
    """What a program writes to a pseudo-terminal (its `master` side), read with a bound on every wait."""

    def __init__(self, master: int) -> None:
        self.master = master
        self.seen = b""

    def until(self, needle: bytes, count: int = 1, seconds: float = 15) -> None:
        import os
        import select
        end = time.monotonic() + seconds
        while self.seen.count(needle) < count and time.monotonic() < end:
            if select.select([self.master], [], [], 0.1)[0]:
                try:
                    self.seen += os.read(self.master, 4096)
                except OSError:         # the program ended and closed its side
                    break
        assert self.seen.count(needle) >= count, f"{needle!r} x{count} not seen in {self.seen[-300:]!r}"


class Wire:
    """A serial client that checks the module's answers byte for byte, with a bound on every wait.

    Bytes read past what a check needed are kept for the next check, never dropped."""

    def __init__(self, port: serial.SerialBase) -> None:
        self.port = port
        self._held = b""

    def send(self, data: bytes) -> None:
        self.port.write(data)

    def _fill(self, deadline: float) -> bool:
        chunk = self.port.read(max(1, self.port.in_waiting))
        self._held += chunk
        return time.monotonic() < deadline

    def expect(self, expected: bytes, timeout: float = 5.0) -> None:
        got = self.read_exactly(len(expected), timeout)
        assert got == expected, f"expected {expected!r}, got {got!r}"

    def read_exactly(self, size: int, timeout: float = 5.0) -> bytes:
        deadline = time.monotonic() + timeout
        while len(self._held) < size and self._fill(deadline):
            pass
        data, self._held = self._held[:size], self._held[size:]
        return data

    def read_until(self, needle: bytes, timeout: float = 5.0) -> bytes:
        deadline = time.monotonic() + timeout
        while needle not in self._held and self._fill(deadline):
            pass
        at = self._held.find(needle)
        assert at >= 0, f"{needle!r} not seen; got {self._held[-200:]!r}"
        data, self._held = self._held[:at + len(needle)], self._held[at + len(needle):]
        return data

    def exchange(self, command: bytes, answer: bytes, timeout: float = 5.0) -> None:
        self.send(command)
        self.expect(answer, timeout)

    def quiet(self, seconds: float = 0.2) -> bytes:
        """What arrives in `seconds` (should be nothing when the module has nothing to say)."""
        time.sleep(seconds)
        data, self._held = self._held + self.port.read(self.port.in_waiting), b""
        return data


def open_sim(query: str, baudrate: int = 115200, timeout: float = 0.2) -> serial.SerialBase:
    return serial.serial_for_url("sim://?" + query, baudrate=baudrate, timeout=timeout)




def sim_url(server: "ExactServer" = None, faults=(), **params) -> str:
    """A sim:// URL with the test network, no latency, example.com mapped to `server`."""
    parts = ["network=HomeNet:s3cr3t99", "latency_scale=0"]
    if server is not None:
        parts.append(f"host=example.com=127.0.0.1:{server.port}")
    parts += [f"{k}={v}" for k, v in params.items()]
    parts += [f"fault={f}" for f in faults]
    return "sim://?" + "&".join(parts)


def fake_guards(esp):
    """`esp` (an EspAt on a sim:// port) with sync()'s waits shrunk to the fake's: the fake leaves passthrough on a
    `+++` with PASSTHROUGH_GUARD (20 ms) of silence around it, where real 1.x firmware wants a second; the client
    keeps ten times the fake's guard, so a loaded machine still leaves the silence whole. Same steps, less waiting.
    Returns `esp`."""
    from esp8266sim.datamode import PASSTHROUGH_GUARD
    esp.ESCAPE_GUARD = 10 * PASSTHROUGH_GUARD
    esp.FILL_PAUSE = 5 * PASSTHROUGH_GUARD
    return esp


def ready_and_joined(wire: Wire, mux: bool = True, dialect: str = "1") -> None:
    """Boot banner, echo off, join HomeNet (and CIPMUX=1): the start of most exchanges."""
    wire.expect(b"\r\nready\r\n")
    wire.exchange(b"ATE0\r\n", b"ATE0\r\r\n\r\nOK\r\n")
    join = b"CWJAP_CUR" if dialect == "1" else b"CWJAP"
    wire.exchange(b'AT+%s="HomeNet","s3cr3t99"\r\n' % join, b"WIFI CONNECTED\r\nWIFI GOT IP\r\n\r\nOK\r\n")
    if mux:
        wire.exchange(b"AT+CIPMUX=1\r\n", b"\r\nOK\r\n")


class ScriptedPort:
    """A port that gives what it was fed, then nothing (a read waits its 50 ms timeout, as pyserial's would)."""

    def __init__(self, data: bytes = b"") -> None:
        self._data = bytearray(data)
        self.written = bytearray()
        self.baudrate = 115200

    def feed(self, data: bytes) -> None:
        self._data += data

    @property
    def in_waiting(self) -> int:
        return len(self._data)

    def read(self, size: int = 1) -> bytes:
        if not self._data:
            time.sleep(0.05)
            return b""
        out = bytes(self._data[:size])
        del self._data[:size]
        return out

    def write(self, data: bytes) -> int:
        self.written += data
        return len(data)

    def close(self) -> None:
        pass
