"""Opening a port by URL, and watching what crosses it.

Every transport goes through pyserial's serial_for_url: a device path, socket://, rfc2217://, loop://, and the
fake module's sim:// (its handler registers itself when esp8266sim is imported, which happens here only when a
sim:// URL is asked for). The wire trace is a wrapper around the port, in the spirit of pyserial's spy://, not a
flag threaded through the client.
"""
from __future__ import annotations

import sys
import time
from typing import IO, Optional

from .wiretext import escape_bytes, redact
from .errors import EspAtError

__all__ = ["PortError", "open_port", "TracedPort"]


class PortError(EspAtError):
    """The port could not be opened or used; the message says which and why."""


def open_port(url: str, baudrate: int = 115200, timeout: float = 0.05):
    """A pyserial port for `url` at `baudrate`, with a short read timeout for polling."""
    import serial
    if url.startswith("sim://"):
        import esp8266sim  # noqa: F401  (registers the sim:// handler)
    # rfc2217:// has no write timeout; elsewhere a write that cannot finish must not hang for ever
    write_timeout = None if url.startswith("rfc2217://") else 10
    try:
        port = serial.serial_for_url(url, baudrate=baudrate, timeout=timeout, write_timeout=write_timeout)
    except (serial.SerialException, ValueError, OSError) as exc:
        raise PortError(f"cannot open {url}: {_reason(exc)}") from None
    if url.startswith("socket://"):
        port = _PeekingSocketPort(port)
    return port


class _PeekingSocketPort:
    """socket:// whose in_waiting says how many bytes wait (pyserial's says only 0 or 1), so reads are not
    byte by byte."""

    def __init__(self, port) -> None:
        self._port = port

    def __getattr__(self, name):
        return getattr(self._port, name)

    def __setattr__(self, name, value):
        if name == "_port":
            object.__setattr__(self, name, value)
        else:
            setattr(self._port, name, value)

    @property
    def in_waiting(self) -> int:
        import socket
        try:
            return len(self._port._socket.recv(65536, socket.MSG_PEEK | socket.MSG_DONTWAIT))
        except (BlockingIOError, InterruptedError):
            return 0
        except OSError as exc:
            raise PortError(f"the socket failed: {exc}") from None

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self._port.close()


def _reason(exc: Exception) -> str:
    text = str(exc)
    if "No such file" in text or "could not open port" in text and "Errno 2" in text:
        return "no such port (is the adapter plugged in? `espat ports` lists them)"
    if "Permission denied" in text:
        return "permission denied (add yourself to the dialout group)"
    if "] " in text and "[Errno" in text:      # pyserial repeats the URL before the OS's own words
        return text[text.index("] ", text.index("[Errno")) + 2:].splitlines()[0]
    return text.splitlines()[0] if text else type(exc).__name__


class TracedPort:
    """Wraps a port; writes every byte each way to `out`, one annotated line per read or write.

    Lines are redacted before they are shown: a join's password never reaches the trace.
    """

    def __init__(self, port, out: IO[str] = sys.stderr) -> None:
        self._port = port
        self._out = out
        self._start = time.monotonic()
        self._incoming = b""        # bytes read but not shown yet: a trace line ends where a line ends

    def __getattr__(self, name):
        return getattr(self._port, name)

    @property
    def in_waiting(self) -> int:
        return self._port.in_waiting

    def _show(self, arrow: str, data: bytes) -> None:
        stamp = time.monotonic() - self._start
        self._out.write(f"[{stamp:9.3f}] {arrow} {escape_bytes(redact(data))}\n")
        self._out.flush()

    def _flush_incoming(self) -> None:
        if self._incoming:
            self._show("<-", self._incoming)
            self._incoming = b""

    def write(self, data: bytes) -> int:
        self._flush_incoming()
        self._show("->", bytes(data))
        return self._port.write(data)

    def read(self, size: int = 1) -> bytes:
        data = self._port.read(size)
        self._incoming += data
        if self._incoming.endswith((b"\n", b">", b"> ")) or (not data and self._incoming) \
                or len(self._incoming) > 4096:
            self._flush_incoming()
        return data

    def close(self) -> None:
        self._flush_incoming()
        self._port.close()

    @property
    def baudrate(self) -> int:
        return self._port.baudrate

    @baudrate.setter
    def baudrate(self, value: int) -> None:
        self._out.write(f"[{time.monotonic() - self._start:9.3f}] -- port now at {value} baud\n")
        self._port.baudrate = value
