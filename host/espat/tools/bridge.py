"""`espat bridge`: the module's serial port shared over TCP as RFC 2217, with pyserial's own server side.

One client at a time, like one cable; a client that goes away frees the port for the next. Clients open it as
`rfc2217://HOST:PORT` (the espat CLI included) and may change the baud rate over the protocol.
"""
from __future__ import annotations

import socket
import sys
import threading

__all__ = ["serve"]


class _Connection:
    """What PortManager writes its replies to."""

    def __init__(self, sock: socket.socket) -> None:
        self.sock = sock
        self.lock = threading.Lock()

    def write(self, data: bytes) -> None:
        with self.lock:
            self.sock.sendall(data)


class _ModemLinesOptional:
    """The port as PortManager sees it, where modem lines a pty has none of (its ioctls fail) read as off and
    setting them does nothing: a pty carries the bytes, which is all the module needs."""

    _LINES = ("cts", "dsr", "ri", "cd")
    _CONTROLS = ("rts", "dtr", "break_condition")

    def __init__(self, port) -> None:
        object.__setattr__(self, "_port", port)

    def __getattr__(self, name):
        if name in self._LINES:
            try:
                return getattr(self._port, name)
            except (OSError, ValueError) + _serial_errors():
                return False
        return getattr(self._port, name)

    def __setattr__(self, name, value) -> None:
        try:
            setattr(self._port, name, value)
        except (OSError, ValueError) + _serial_errors():
            if name not in self._CONTROLS:
                raise


def _serial_errors() -> tuple:
    import serial
    return (serial.SerialException,)


def serve(url: str, baudrate: int, host: str, port: int, verbose: bool = False, ready=None,
          stop: threading.Event = None) -> None:
    import serial
    from serial import rfc2217
    from ..transport import open_port
    ser = open_port(url, baudrate, timeout=0.05)
    listener = socket.socket()
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind((host, port))
    listener.listen(1)
    listener.settimeout(0.5)
    bound = listener.getsockname()
    print(f"bridging {url} as rfc2217://{bound[0]}:{bound[1]}", flush=True)
    if ready is not None:
        ready(bound)
    stop = stop or threading.Event()
    try:
        while not stop.is_set():
            try:
                client, peer = listener.accept()
            except socket.timeout:
                continue
            if verbose:
                print(f"client {peer[0]}:{peer[1]} connected", file=sys.stderr)
            _session(ser, client, rfc2217, serial, stop)
            if verbose:
                print("client disconnected", file=sys.stderr)
    except KeyboardInterrupt:
        pass
    finally:
        listener.close()
        ser.close()


def _session(ser, client: socket.socket, rfc2217, serial, stop: threading.Event) -> None:
    client.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    conn = _Connection(client)
    manager = rfc2217.PortManager(_ModemLinesOptional(ser), conn)
    alive = threading.Event()
    alive.set()

    def to_client() -> None:
        while alive.is_set():
            try:
                data = ser.read(max(1, ser.in_waiting))
                if data:
                    conn.write(b"".join(manager.escape(data)))
                manager.check_modem_lines()
            except (OSError, serial.SerialException):
                break
        alive.clear()

    reader = threading.Thread(target=to_client, daemon=True)
    reader.start()
    client.settimeout(0.5)
    try:
        while alive.is_set() and not stop.is_set():
            try:
                data = client.recv(4096)
            except socket.timeout:
                continue
            if not data:
                break
            ser.write(b"".join(manager.filter(data)))
    except OSError:
        pass
    finally:
        alive.clear()
        reader.join(timeout=2)
        client.close()
