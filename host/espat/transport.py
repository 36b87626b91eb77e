"""Opening a port by URL, and watching what crosses it.

Every transport goes through pyserial's serial_for_url: a device path, socket://, rfc2217://, loop://, and any
URL whose handler package is in serial.protocol_handler_packages (the fake module's sim:// is one: the library
never imports the fake; the tools above both register it, as importing esp8266sim does). The wire trace wraps a
port too: see trace.py.

A device path (a USB adapter, a pty) is one process's at a time: two programs reading one serial line each get
half of every answer. It is opened with pyserial's exclusive=True (an flock on the device, where the platform has
it) and a lock file holding the pid, so the second one gets PortBusy naming the first. The kernel drops both locks
when the process ends, even when it is killed.
"""
from __future__ import annotations

import os
import re
from typing import TYPE_CHECKING, Optional, Union

from .errors import PortBusy, PortError

if TYPE_CHECKING:
    from serial import SerialBase

__all__ = ["PortError", "PortBusy", "open_port"]


def open_port(url: str, baudrate: int = 115200, timeout: float = 0.05) -> Union[SerialBase, _PeekingSocketPort]:
    """A pyserial port for `url` at `baudrate`, with a short read timeout for polling."""
    import serial
    # rfc2217:// has no write timeout; elsewhere a write that cannot finish must not hang for ever
    write_timeout = None if url.startswith("rfc2217://") else 10
    device = "://" not in url
    lock = _LockFile.take(url) if device else None
    extra = {"exclusive": True} if device and os.name == "posix" else {}
    try:
        port = serial.serial_for_url(url, baudrate=baudrate, timeout=timeout, write_timeout=write_timeout, **extra)
    except (serial.SerialException, ValueError, OSError) as exc:
        if lock is not None:
            lock.release()
        if "exclusively lock" in str(exc):     # held by a program that locks the device but writes no lock file
            raise PortBusy(url) from None
        raise PortError(f"cannot open {url}: {_reason(exc)}") from None
    if lock is not None:
        close = port.close

        def close_and_unlock() -> None:
            try:
                close()
            finally:
                lock.release()
        port.close = close_and_unlock
    if url.startswith("socket://"):
        port = _PeekingSocketPort(port, url)
    return port


class _LockFile:
    """`espat-<device>.lock` in /run/lock (or the temp directory), flock-ed while the port is open, with the pid."""

    def __init__(self, fd: int) -> None:
        self._fd: Optional[int] = fd

    @classmethod
    def take(cls, device: str) -> Optional["_LockFile"]:
        try:
            import fcntl
        except ImportError:             # Windows: a COM port is exclusive by itself
            return None
        path = _lock_path(device)
        try:
            fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o666)
        except PermissionError:         # another user's lock file: still good for flock, not for our pid
            try:
                fd = os.open(path, os.O_RDONLY)
            except OSError:
                return None
        except OSError:
            return None
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            pid = _read_pid(fd)
            os.close(fd)
            raise PortBusy(device, pid) from None
        try:
            os.ftruncate(fd, 0)
            os.pwrite(fd, f"{os.getpid()}\n".encode(), 0)
        except OSError:
            pass
        return cls(fd)

    def release(self) -> None:
        if self._fd is not None:
            fd, self._fd = self._fd, None
            try:
                os.ftruncate(fd, 0)
            except OSError:
                pass
            os.close(fd)                # closing the descriptor drops the flock


def _lock_path(device: str) -> str:
    import tempfile
    real = os.path.realpath(device)     # /dev/serial/by-id/... and /dev/ttyUSB0 are one port
    name = "espat-" + re.sub(r"[^A-Za-z0-9._-]+", "-", real).strip("-") + ".lock"
    directory = "/run/lock" if os.path.isdir("/run/lock") and os.access("/run/lock", os.W_OK) \
        else tempfile.gettempdir()
    return os.path.join(directory, name)


def _read_pid(fd: int) -> Optional[int]:
    try:
        text = os.pread(fd, 32, 0).decode("ascii", "replace").strip()
    except OSError:
        return None
    return int(text) if text.isdigit() else None


class _PeekingSocketPort:
    """socket:// whose in_waiting says how many bytes wait (pyserial's says only 0 or 1), so reads are not
    byte by byte; a connection the other end drops is a PortError, and PortBusy when it was dropped at once with
    not a byte said (a serial server that takes one client at a time, as a cable does, turns the second away so)."""

    BUSY_WITHIN = 2.0       # seconds after connecting in which a silent drop means "taken"

    def __init__(self, port, url: str = "socket://") -> None:
        import time
        object.__setattr__(self, "_port", port)
        object.__setattr__(self, "_url", url)
        object.__setattr__(self, "_opened", time.monotonic())
        object.__setattr__(self, "_heard", False)

    def __getattr__(self, name):
        return getattr(self._port, name)

    def __setattr__(self, name, value):
        setattr(self._port, name, value)

    @property
    def in_waiting(self) -> int:
        import socket
        try:
            return len(self._port._socket.recv(65536, socket.MSG_PEEK | socket.MSG_DONTWAIT))
        except (BlockingIOError, InterruptedError):
            return 0
        except OSError as exc:
            raise self._dropped(exc) from None

    def read(self, size: int = 1) -> bytes:
        import serial
        try:
            data = self._port.read(size)
        except serial.SerialException as exc:
            raise self._dropped(exc) from None
        if data:
            object.__setattr__(self, "_heard", True)
        return data

    def write(self, data) -> int:
        import serial
        try:
            return self._port.write(data)
        except serial.SerialException as exc:
            raise self._dropped(exc) from None

    def _dropped(self, exc: Exception) -> PortError:
        import time
        if not self._heard and time.monotonic() - self._opened < self.BUSY_WITHIN:
            return PortBusy(self._url, why="the server dropped the connection at once: another client has it, "
                                           "one at a time")
        return PortError(f"{self._url}: the connection was lost ({exc})")

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
    if "protocol 'sim' not known" in text:
        return "sim:// is the fake module's: install espat[sim] and import esp8266sim (or use the espat command)"
    if "] " in text and "[Errno" in text:      # pyserial repeats the URL before the OS's own words
        return text[text.index("] ", text.index("[Errno")) + 2:].splitlines()[0]
    return text.splitlines()[0] if text else type(exc).__name__

