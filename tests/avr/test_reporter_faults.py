"""The compiled reporter in simavr through the faults tests/firmware/test_reporter_e2e.py does not cover: garbage
from the module (ROM-loader noise at each boot, flipped bits in its answers, a reset mid-send) and the server down
for a whole minute. Every reading is stored exactly once (the server keeps the first copy of each idempotency key,
as the collector does), in order, none invented, and each fault is shown to have fired.
"""
from __future__ import annotations

import json
import os
import re
import socket
import sys
import threading
import time
from pathlib import Path

from esp8266sim import SimConfig, Simulator
from unosim import Uno
from simtools import read_request
from unotools import SETTINGS

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "firmware" / "tools"))
import build  # noqa: E402

REPLY = b"HTTP/1.1 %d X\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"


class Server:
    """A loopback HTTP server that can go down (connections refused) and come back on the same port. It answers
    201 to a reading's first copy and 200 to a repeat, and keeps the first copies in order."""

    def __init__(self) -> None:
        self.stored, self.repeats, self.refused_while_down = [], 0, 0
        self.port = 0
        self._listener = None
        self._lock = threading.Lock()
        self.up()

    def up(self) -> None:
        sock = socket.socket()
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(("127.0.0.1", self.port))
        sock.listen(8)
        self.port = sock.getsockname()[1]
        self._listener = sock
        threading.Thread(target=self._serve, args=(sock,), daemon=True).start()

    def down(self) -> None:
        self._listener.close()

    def _serve(self, sock) -> None:
        while True:
            try:
                conn, _ = sock.accept()
            except OSError:
                return
            threading.Thread(target=self._handle, args=(conn,), daemon=True).start()

    def _handle(self, conn) -> None:
        conn.settimeout(10)
        try:
            request = read_request(conn)
            if request is None:
                return
            reading = json.loads(request[1])
            key = (reading["device"], reading["incarnation"], reading["boot"], reading["seq"])
            with self._lock:
                repeat = any(k == key for k, _ in self.stored)
                if repeat:
                    self.repeats += 1
                else:
                    self.stored.append((key, reading))
            conn.sendall(REPLY % (200 if repeat else 201))
        finally:
            conn.close()

    def seqs(self) -> list:
        with self._lock:
            return [key[3] for key, _ in self.stored]

    def close(self) -> None:
        self._listener.close()


def reporter(tmp_path: Path, interval_ms: int) -> Path:
    saved = dict(os.environ)
    os.environ.update({**SETTINGS, "ESPAT_INTERVAL_MS": str(interval_ms)})
    try:
        return build.pio_build(ROOT / "platformio.ini", ["reporter_softserial"], tmp_path)["reporter_softserial"][2]
    finally:
        os.environ.clear()
        os.environ.update(saved)


def wait_until(condition, seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.25)
    return False


def taken(usb: bytes) -> list:
    return [int(n) for n in re.findall(rb"sample (\d+)", usb)]


def assert_exactly_once_in_order(server: Server, usb: bytes, upto: int) -> None:
    seqs = server.seqs()
    assert seqs[:upto] == list(range(1, upto + 1)), f"stored {[r for _, r in server.stored][:8]}\n{usb.decode(errors='replace')[:3000]}"
    assert max(seqs) <= max(taken(usb)), f"stored a reading never taken: {seqs} vs {taken(usb)}"
    _, last = server.stored[-1]
    assert last["dropped"] == 0, last


def test_garbage_from_the_module_loses_and_invents_nothing(tmp_path):
    """ROM noise at each boot, 0.2 % of the module's bytes with a flipped bit, a reset halfway through a send."""
    server = Server()
    log = tmp_path / "module.log"
    config = SimConfig(networks={"HomeNet": "s3cr3t99"}, hosts={"example.com": ("127.0.0.1", server.port)},
                       baud=9600, latency_scale=0.1, log_path=str(log), seed=7,
                       faults=["boot-garbage", "reset@send=2", "corrupt:0.002"])
    try:
        with Simulator(config) as sim:
            # a reading every 8 s: the ring's 8 places cover the recovery (at 2 s it overflows, counted in
            # `dropped`, as the board reports a real loss)
            with Uno.sketch(reporter(tmp_path / "build", 8000), esp=sim.serve_tcp().split("//", 1)[1]) as uno:
                wait_until(lambda: set(server.seqs()) >= set(range(1, 7)), 150)
                usb = uno.output
    finally:
        server.close()
    assert_exactly_once_in_order(server, usb, 6)
    wire = log.read_text(errors="replace")
    assert wire.count("ready") >= 2, "the module did not reset mid-send"   # boot, then the reset
    assert usb.count(b"module ready") >= 2, usb.decode(errors="replace")


def test_a_minute_without_the_server_loses_nothing(tmp_path):
    """Readings every 15 s wait in the board's ring (8) while the server refuses connections for 60 s."""
    server = Server()
    config = SimConfig(networks={"HomeNet": "s3cr3t99"}, hosts={"example.com": ("127.0.0.1", server.port)},
                       baud=9600, latency_scale=0.1)
    try:
        with Simulator(config) as sim:
            with Uno.sketch(reporter(tmp_path / "build", 15000), esp=sim.serve_tcp().split("//", 1)[1]) as uno:
                assert wait_until(lambda: server.seqs() == [1], 60), uno.output
                server.down()
                # the outage: four more readings, a minute of the board's own time (however fast the machine is)
                before, outage_began = max(taken(uno.output)), time.monotonic()
                assert wait_until(lambda: max(taken(uno.output)) >= before + 4, 240), uno.output
                # The board's own clock runs at simavr's pace, slower on a loaded machine: the outage was four
                # readings 15 board-seconds apart, which gives wall seconds per board second for the next bound.
                wall_per_board_s = (time.monotonic() - outage_began) / 60
                during = taken(uno.output)
                failures = len(re.findall(rb"post status (?!201)\d+", uno.output))
                server.up()
                # the back-off has grown to about a minute by now (jitter only shortens it), then five posts
                assert wait_until(lambda: set(server.seqs()) >= set(range(1, max(during) + 1)),
                                  max(90.0, 180 * wall_per_board_s)), server.seqs()
                usb = uno.output
    finally:
        server.close()
    assert max(during) >= 4, f"too few readings taken during the outage: {during}"
    assert failures >= 2, usb.decode(errors="replace")      # the outage was felt: posts failed and backed off
    assert_exactly_once_in_order(server, usb, max(during))
