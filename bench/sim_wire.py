"""How close the fake ESP-01 gets to the wire limit: a 100 KB GET through the paced simulator.

The simulator paces every byte at the baud rate (10 bits a byte), so the best any client can see is baud/10
bytes a second. The figure is the bytes the module put on the wire during the download divided by what the wire
could carry in that time. Goal (issue 3): >= 0.95 at 115200 and 921600 baud, also with 5 links at once.
"""
from __future__ import annotations

import os
import socket
import sys
import threading
import time

sys.path[:0] = [os.path.join(os.path.dirname(__file__), "..", p) for p in ("host", "simulator")]
import serial  # noqa: E402

import esp8266sim  # noqa: E402,F401
from espat import commands, events  # noqa: E402
from espat.httpclient import build_request  # noqa: E402
from espat.proto.parser import Parser  # noqa: E402

BODY = 100 * 1024


def serve_bytes(body: bytes) -> socket.socket:
    reply = b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\nConnection: close\r\n\r\n" % len(body) + body
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(8)

    def handle(conn: socket.socket) -> None:
        with conn:
            data = b""
            while b"\r\n\r\n" not in data:
                chunk = conn.recv(4096)
                if not chunk:
                    return
                data += chunk
            conn.sendall(reply)

    def accept() -> None:
        while True:
            try:
                conn, _ = listener.accept()
            except OSError:
                return
            threading.Thread(target=handle, args=(conn,), daemon=True).start()
    threading.Thread(target=accept, daemon=True).start()
    return listener


class Session:
    def __init__(self, port: serial.SerialBase) -> None:
        self.port = port
        self.parser = Parser()
        self.pending: list = []
        self.wire_bytes = 0
        self.closed = 0
        self.data_started = None          # (time, wire bytes) at the first byte of link data

    def _note(self, event) -> None:
        if isinstance(event, events.Ipd) and self.data_started is None:
            # the clock starts once the first block is in: only bytes after it count
            self.data_started = (time.monotonic(), self.wire_bytes)
        elif isinstance(event, events.Closed):
            self.closed += 1

    def events(self, timeout: float = 30.0):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            while self.pending:
                event = self.pending.pop(0)
                self._note(event)
                yield event
            data = self.port.read(max(1, self.port.in_waiting))
            self.wire_bytes += len(data)
            self.pending.extend(self.parser.receive_data(data))
        raise TimeoutError("no answer from the module")

    def command(self, cmd: commands.Command) -> list:
        self.port.write(cmd.line)
        seen = []
        for event in self.events(cmd.timeout + 5):
            seen.append(event)
            if isinstance(event, (events.Prompt, events.FinalResult)):
                return seen
        return seen


def run(baud: int, links: int) -> float:
    listener = serve_bytes(bytes(i & 0xFF for i in range(BODY)))
    url = (f"sim://?network=Bench:benchmark&host=bench.local=127.0.0.1:{listener.getsockname()[1]}"
           f"&latency_scale=0&baud={baud}")
    port = serial.serial_for_url(url, baudrate=baud, timeout=0.05)
    try:
        s = Session(port)
        for cmd in (commands.echo(False), commands.join("Bench", "benchmark"), commands.mux(True)):
            s.command(cmd)
        request = build_request("GET", "bench.local", "/big")
        for link in range(links):
            s.command(commands.start(link, "TCP", "bench.local", 80))
        for link in range(links):
            s.command(commands.send(link, len(request)))
            port.write(request)
            for event in s.events():            # the module takes no command before SEND OK
                if isinstance(event, (events.SendOk, events.SendFail)):
                    break
        for _ in s.events(60 + links * BODY * 10 / baud * 2):
            if s.closed == links:
                break
        start, start_bytes = s.data_started
        elapsed = time.monotonic() - start
        carried = s.wire_bytes - start_bytes
        return carried / elapsed / (baud / 10)
    finally:
        port.close()
        listener.close()


def main() -> None:
    print(f"{BODY // 1024} KB GET per link through the paced fake ESP-01 (fraction of the wire limit baud/10):")
    for baud in (115200, 921600):
        for links in (1, 5):
            fraction = run(baud, links)
            print(f"  {baud:>6} baud, {links} link{'s' if links > 1 else ' '}: {fraction:.3f} (goal >= 0.95)")


if __name__ == "__main__":
    main()
