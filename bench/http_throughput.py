"""A 200 KB HTTP GET through the client and the paced fake ESP-01, as a fraction of the wire limit.

Every byte the exchange put on the wire, both ways (commands, prompts, +IPD headers, the body), divided by what
the wire carries in the time the whole GET took (baud/10 bytes a second). Goal (issue 4): >= 0.90 at 115200 and
921600 baud, with +IPD pushed by the module. Passive receive (the host asks for each 2048 bytes) is printed too, to
show what the request/answer turns cost.
"""
from __future__ import annotations

import os
import socket
import sys
import threading
import time

sys.path[:0] = [os.path.join(os.path.dirname(__file__), "..", p) for p in ("host", "simulator")]
import esp8266sim  # noqa: E402,F401  (registers sim://; the library never imports the fake)
from espat.client import EspAt  # noqa: E402
from espat.httpclient import request  # noqa: E402

BODY = bytes((i * 31) & 0xFF for i in range(200 * 1024))


class Counting:
    """Counts the bytes a port carries each way."""

    def __init__(self, port) -> None:
        self._port = port
        self.bytes = 0

    def __getattr__(self, name):
        return getattr(self._port, name)

    @property
    def in_waiting(self) -> int:
        return self._port.in_waiting

    def read(self, size: int = 1) -> bytes:
        data = self._port.read(size)
        self.bytes += len(data)
        return data

    def write(self, data: bytes) -> int:
        self.bytes += len(data)
        return self._port.write(data)


def serve() -> socket.socket:
    reply = b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\nConnection: close\r\n\r\n" % len(BODY) + BODY
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(4)

    def run() -> None:
        while True:
            try:
                conn, _ = listener.accept()
            except OSError:
                return
            with conn:
                data = b""
                while b"\r\n\r\n" not in data:
                    data += conn.recv(4096)
                conn.sendall(reply)
    threading.Thread(target=run, daemon=True).start()
    return listener


def run(baud: int, passive: bool = False) -> float:
    listener = serve()
    url = f"sim://?network=Bench:benchmark&host=bench.local=127.0.0.1:{listener.getsockname()[1]}" \
          f"&latency_scale=0&baud={baud}"
    try:
        with EspAt(url, baud) as esp:
            esp.sync()
            esp.join("Bench", "benchmark")
            esp.use_mux()
            if passive:
                esp.set_passive(True)
            counted = Counting(esp.port)
            esp.port = counted
            got = bytearray()
            start = time.monotonic()
            request(esp, "GET", "http://bench.local/blob", sink=got.extend, timeout=120)
            elapsed = time.monotonic() - start
        assert bytes(got) == BODY
        return counted.bytes / elapsed / (baud / 10)
    finally:
        listener.close()


def main() -> None:
    print("200 KB GET through espat's client and the paced fake ESP-01 (wire bytes / time / (baud/10)):")
    for baud in (115200, 921600):
        print(f"  {baud:>6} baud, +IPD pushed:          {run(baud):.3f} of the wire limit (goal >= 0.90)")
    for baud in (115200, 921600):
        print(f"  {baud:>6} baud, passive CIPRECVDATA:  {run(baud, passive=True):.3f} of the wire limit (for comparison)")


if __name__ == "__main__":
    main()
