"""The virtual Uno's ESP side wired to any module URL (a real ESP-01 on a USB adapter, socket://, sim://): the
harness connects to a loopback TCP port, and bytes are carried between it and the port pyserial opens."""
from __future__ import annotations

import socket
import threading

import serial

__all__ = ["PortRelay", "RelayError"]


class RelayError(Exception):
    """The module's port cannot be used; one line for the user."""


class PortRelay:
    def __init__(self, url: str, baud: int) -> None:
        try:
            self.port = serial.serial_for_url(url, baudrate=baud, timeout=0.05, exclusive=True)
        except (serial.SerialException, ValueError) as exc:
            raise RelayError(f"--esp-port {url}: {exc}") from None
        self.listener = socket.socket()
        self.listener.bind(("127.0.0.1", 0))
        self.listener.listen(1)
        self.address = "127.0.0.1:%d" % self.listener.getsockname()[1]
        self._closed = threading.Event()
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self) -> None:
        try:
            conn, _ = self.listener.accept()
        except OSError:
            return
        conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        threading.Thread(target=self._to_module, args=(conn,), daemon=True).start()
        while not self._closed.is_set():
            try:
                data = self.port.read(4096)
                if data:
                    conn.sendall(data)
            except (OSError, serial.SerialException):
                break
        conn.close()

    def _to_module(self, conn: socket.socket) -> None:
        while not self._closed.is_set():
            try:
                data = conn.recv(4096)
            except OSError:
                break
            if not data:
                break
            try:
                self.port.write(data)
            except (OSError, serial.SerialException):
                break

    def close(self) -> None:
        self._closed.set()
        self.listener.close()
        self.port.close()
