"""Opening a port by URL, and watching what crosses it.

Every transport goes through pyserial's serial_for_url: a device path, socket://, rfc2217://, loop://, and the
fake module's sim:// (its handler registers itself when esp8266sim is imported, which happens here only when a
sim:// URL is asked for). The wire trace wraps a port too: see trace.py.
"""
from __future__ import annotations

from .errors import PortBusy, PortError

__all__ = ["PortError", "PortBusy", "open_port"]


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

