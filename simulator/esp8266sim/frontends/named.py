"""A named fake ESP-01 that outlives the program that opened it, like a board left plugged in.

`sim://?name=bench1&...` opens the module named bench1: the first open starts it in a background process
(`python -m esp8266sim --name bench1 ...`, detached), every later open from any process plugs the cable into the
same module, with its Wi-Fi, links and settings as they were. So `espat -p 'sim://?name=bench1&...' wifi join`
then `espat -p 'sim://?name=bench1' http get ...` work as two commands on one board. One host at a time. The
module boots when the first host connects (that host reads `ready`); it powers off after --idle-exit seconds
without a host (default 600) or with `stop(name)`.

The cable is a unix socket in a per-user directory. Host to module, each message is a type byte and a 4-byte
length: `D` bytes for the module, `B` the host's baud rate (so a mismatch shows as on every front end), `H` hello,
answered `Y` (connected) or `N` (another host has it). Module to host, bytes as they are.
"""
from __future__ import annotations

import asyncio
import fcntl
import json
import os
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import threading
import time
from typing import List, Optional, Tuple

from .inprocess import Inbox

__all__ = ["NamedError", "RemoteEnd", "open_named", "remove_files", "serve_named", "socket_path", "stop"]

_HEAD = struct.Struct(">cI")
START_TIMEOUT = 30.0


def _directory() -> str:
    base = os.environ.get("XDG_RUNTIME_DIR") or tempfile.gettempdir()
    path = os.path.join(base, f"esp8266sim-{os.getuid()}")
    os.makedirs(path, mode=0o700, exist_ok=True)
    return path


def socket_path(name: str) -> str:
    if not name or not all(c.isalnum() or c in "-_." for c in name) or name.startswith("."):
        raise ValueError(f"name {name!r}: letters, digits, '-', '_' and '.' only")
    return os.path.join(_directory(), f"{name}.sock")


def _meta_path(name: str) -> str:
    return socket_path(name)[:-len(".sock")] + ".json"


def _log_path(name: str) -> str:
    return socket_path(name)[:-len(".sock")] + ".err"


def remove_files(name: str) -> None:
    """What a named module leaves behind, removed when it powers off."""
    base = socket_path(name)[:-len(".sock")]
    for path in (base + ".sock", base + ".json", base + ".err", base + ".lock"):
        try:
            os.unlink(path)
        except OSError:
            pass


# --- the background side ---------------------------------------------------------------------------------------------

async def serve_named(sim, name: str, idle_exit: float, stopped: threading.Event) -> str:
    """Serve `sim` on the named socket until `stopped` is set or no host came for `idle_exit` seconds."""
    path = socket_path(name)
    if os.path.exists(path):
        os.unlink(path)
    current: list = []
    last_seen = [time.monotonic()]

    async def client(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            kind, size = _HEAD.unpack(await reader.readexactly(_HEAD.size))
            await reader.readexactly(size)
            if kind != b"H" or current:
                writer.write(b"N")
                return
            current.append(writer)
            writer.write(b"Y")
            sim.connect_host(writer.write)
            while True:
                kind, size = _HEAD.unpack(await reader.readexactly(_HEAD.size))
                body = await reader.readexactly(size)
                if kind == b"D":
                    sim.from_host(body)
                elif kind == b"B":
                    sim.wire.set_host_baud(int(body) if body else None)
        except (asyncio.IncompleteReadError, OSError, ValueError, asyncio.CancelledError):
            pass
        finally:
            if writer in current:
                current.remove(writer)
                sim.connect_host(None)
                last_seen[0] = time.monotonic()
            writer.close()

    server = await asyncio.start_unix_server(client, path)
    os.chmod(path, 0o600)
    with open(_meta_path(name), "w") as meta:
        json.dump({"pid": os.getpid()}, meta)

    def close() -> None:
        server.close()
        for writer in current:
            writer.close()
    sim.add_closer(close)

    async def idle_watch() -> None:
        while True:
            await asyncio.sleep(0.5)
            if not current and time.monotonic() - last_seen[0] > idle_exit:
                stopped.set()
                return
    asyncio.get_running_loop().create_task(idle_watch())
    return path


# --- the host side ---------------------------------------------------------------------------------------------------

class RemoteEnd:
    """The host's end of a named module's cable: the same calls as inprocess.HostEnd."""

    def __init__(self, sock: socket.socket) -> None:
        self._sock = sock
        self._inbox = Inbox()
        self._send_lock = threading.Lock()
        threading.Thread(target=self._pump, name="esp8266sim-cable", daemon=True).start()

    def _pump(self) -> None:
        while True:
            try:
                data = self._sock.recv(65536)
            except OSError:
                data = b""
            if not data:
                self._inbox.close()
                return
            self._inbox.deliver(data)

    def read(self, size: int, timeout: Optional[float]) -> bytes:
        return self._inbox.read(size, timeout)

    @property
    def waiting(self) -> int:
        return self._inbox.waiting

    def clear(self) -> None:
        self._inbox.clear()

    def _message(self, kind: bytes, body: bytes) -> None:
        with self._send_lock:
            try:
                self._sock.sendall(_HEAD.pack(kind, len(body)) + body)
            except OSError:
                pass                # the module is gone: reads see nothing, as with an unplugged board

    def write(self, data: bytes) -> None:
        self._message(b"D", bytes(data))

    def set_baud(self, baud: Optional[int]) -> None:
        self._message(b"B", str(baud or "").encode())

    def close(self) -> None:
        try:
            self._sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        self._sock.close()


class NamedError(Exception):
    """The named module cannot be reached or started; the message is one line."""


def _connect(path: str) -> Optional[socket.socket]:
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        sock.connect(path)
    except OSError:
        sock.close()
        return None
    return sock


def open_named(name: str, settings: List[Tuple[str, str]], baud: Optional[int]) -> RemoteEnd:
    """Plug into the named module, starting it with `settings` (sim:// query pairs) when it is not running."""
    path = socket_path(name)
    with open(path[:-len(".sock")] + ".lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)        # two first opens at once start one module
        sock = _connect(path)
        started = sock is None
        if started:
            _start(name, settings)
            sock = _connect(path)
            if sock is None:
                raise NamedError(f"sim://?name={name}: the background module did not start")
            _remember_settings(name, settings)
    if not started:
        running = _running_settings(name)
        if settings and running is not None and settings != running:
            sock.close()
            raise NamedError(f"sim://?name={name} already runs with other settings; reopen it with name={name} "
                             f"alone (or stop it first)")
    sock.settimeout(START_TIMEOUT)
    try:
        sock.sendall(_HEAD.pack(b"H", 0))
        answer = sock.recv(1)
    except OSError:
        answer = b""
    if answer != b"Y":
        sock.close()
        raise NamedError(f"port busy: another host has the named module {name!r} open (one host at a time, as "
                         "on a serial line)")
    sock.settimeout(None)
    end = RemoteEnd(sock)
    end.set_baud(baud)
    return end


def _running_settings(name: str) -> Optional[List[Tuple[str, str]]]:
    try:
        with open(_meta_path(name)) as meta:
            return [tuple(pair) for pair in json.load(meta)["settings"]]
    except (OSError, ValueError, KeyError, TypeError):
        return None                 # started by hand (espat sim --name): whatever it runs with


def _remember_settings(name: str, settings: List[Tuple[str, str]]) -> None:
    try:
        with open(_meta_path(name)) as meta:
            data = json.load(meta)
        data["settings"] = settings
        with open(_meta_path(name), "w") as meta:
            json.dump(data, meta)
    except (OSError, ValueError):
        pass                        # a later open with other settings is then not refused: nothing is lost


_children: list = []             # kept so that their Popen objects are not collected while they run


def _start(name: str, settings: List[Tuple[str, str]]) -> None:
    args = [sys.executable, "-m", "esp8266sim", "--name", name]
    for key, value in settings:
        args += [f"--{key.replace('_', '-')}", value]
    with open(_log_path(name), "w") as errors:
        proc = subprocess.Popen(args, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=errors,
                                start_new_session=True, text=True)
    line = proc.stdout.readline()           # printed once it listens; nothing when it failed
    proc.stdout.close()
    if not line:
        proc.wait()
        with open(_log_path(name)) as errors:
            lines = errors.read().strip().splitlines()
        raise NamedError(lines[-1] if lines else f"sim://?name={name}: the background module did not start")
    _children.append(proc)


def stop(name: str) -> bool:
    """Power the named module off; False when none was running."""
    try:
        with open(_meta_path(name)) as meta:
            pid = json.load(meta)["pid"]
        os.kill(pid, signal.SIGTERM)
    except (OSError, ValueError, KeyError):
        return False
    deadline = time.monotonic() + 10
    while os.path.exists(_meta_path(name)) and time.monotonic() < deadline:
        time.sleep(0.05)                # it removes its files as it powers off
    for proc in list(_children):
        if proc.poll() is not None:
            _children.remove(proc)
    return True
