"""The compiled reporter in simavr through the faults tests/firmware/test_reporter_e2e.py does not cover: garbage
from the module (ROM-loader noise at each boot, flipped bits in its answers, a reset mid-send) and the server down
for a whole minute. Every reading is stored exactly once (the server keeps the first copy of each idempotency key,
as the collector does), in order, none invented, and each fault is shown to have fired.

The board, the fake module and the server run in lock step on one virtual clock (unosim.lockstep_program): a
minute of outage is a minute of the board's time however loaded the machine is, and the runs take the emulator's
time, not the board's.
"""
from __future__ import annotations

import asyncio
import json
import os
import re
from pathlib import Path

from builds import build_envs
from esp8266sim import SimConfig
from esp8266sim.lockstep import LockStepBoard
from esp8266sim.vclock import VirtualLoop
from unosim.lockstep_program import SimavrProgram
from unotools import SETTINGS


REPLY = b"HTTP/1.1 %d X\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
STEP = 0.5                  # board-seconds between two looks at what the server and USB have


class Server:
    """A loopback HTTP server on the virtual loop that can go down (connections refused) and come back on the same
    port. It answers 201 to a reading's first copy and 200 to a repeat, and keeps the first copies in order."""

    def __init__(self, loop: VirtualLoop) -> None:
        self.loop = loop
        self.stored, self.repeats = [], 0
        self.port = 0
        self._listener = None
        self.up()

    def up(self) -> None:
        task = self.loop.create_task(asyncio.start_server(self._handle, "127.0.0.1", self.port, reuse_address=True))
        self.loop.run_until(self.loop.time())
        self._listener = task.result()
        self.port = self._listener.sockets[0].getsockname()[1]

    def down(self) -> None:
        self._listener.close()

    async def _handle(self, reader, writer) -> None:
        try:
            head = await reader.readuntil(b"\r\n\r\n")
            length = next(int(line.split(b":")[1]) for line in head.split(b"\r\n")
                          if line.lower().startswith(b"content-length:"))
            reading = json.loads(await reader.readexactly(length))
            key = (reading["device"], reading["incarnation"], reading["boot"], reading["seq"])
            repeat = any(k == key for k, _ in self.stored)
            if repeat:
                self.repeats += 1
            else:
                self.stored.append((key, reading))
            writer.write(REPLY % (200 if repeat else 201))
            await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError):
            pass                        # the board's link went mid-request: nothing was stored
        finally:
            writer.close()

    def seqs(self) -> list:
        return [key[3] for key, _ in self.stored]

    def close(self) -> None:
        self._listener.close()


class Run:
    """The reporter in lock step with the fake and the server: `until(condition, board_seconds)` runs it in steps
    of STEP board-seconds until the condition holds; `usb` is what the board printed so far."""

    def __init__(self, tmp_path: Path, elf: Path, config: SimConfig, loop: VirtualLoop) -> None:
        self.loop = loop
        self.usb_log = tmp_path / "usb.txt"
        self.wire_log = tmp_path / "wire.txt"
        self.board = LockStepBoard(loop, config, SimavrProgram(elf, seed=config.seed, wire_log=self.wire_log),
                                   adc=lambda t: (215, 314, 5000), usb_log=self.usb_log)
        self.board.power_on()

    @property
    def usb(self) -> bytes:
        return self.usb_log.read_bytes() if self.usb_log.exists() else b""

    def until(self, condition, board_seconds: float) -> bool:
        end = self.loop.time() + board_seconds
        while not condition():
            if self.loop.time() >= end:
                return False
            exit = self.board.run_until(min(end, self.loop.time() + STEP))
            assert exit is None, f"the board stopped: {exit}\n{self.usb.decode(errors='replace')[-2000:]}"
        return True

    def module_said(self) -> bytes:
        """What reached the board's RX pin from the module (the wire log's R bytes, after the wire's faults)."""
        return bytes(int(b, 16) for d, _, b in (line.split() for line in self.wire_log.read_text().splitlines())
                     if d == "R")

    def close(self) -> None:
        self.board.close()
        self.loop.close()


def reporter(tmp_path_factory, out: Path, interval_ms: int) -> Path:
    environ = {**os.environ, **SETTINGS, "ESPAT_INTERVAL_MS": str(interval_ms)}
    build_envs(tmp_path_factory, ["reporter_softserial"], environ, out)
    return out / "reporter_softserial" / "firmware.elf"


def taken(usb: bytes) -> list:
    return [int(n) for n in re.findall(rb"sample (\d+)", usb)]


def assert_exactly_once_in_order(server: Server, usb: bytes, upto: int) -> None:
    seqs = server.seqs()
    assert seqs[:upto] == list(range(1, upto + 1)), f"stored {[r for _, r in server.stored][:8]}\n{usb.decode(errors='replace')[:3000]}"
    assert max(seqs) <= max(taken(usb)), f"stored a reading never taken: {seqs} vs {taken(usb)}"
    _, last = server.stored[-1]
    assert last["dropped"] == 0, last


def test_garbage_from_the_module_loses_and_invents_nothing(tmp_path, tmp_path_factory):
    """ROM noise at each boot, 0.2 % of the module's bytes with a flipped bit, a reset halfway through a send."""
    loop = VirtualLoop()
    server = Server(loop)
    config = SimConfig(networks={"HomeNet": "s3cr3t99"}, hosts={"example.com": ("127.0.0.1", server.port)},
                       baud=9600, latency_scale=0.1, seed=7, faults=["boot-garbage", "reset@send=2", "corrupt:0.002"])
    # a reading every 8 s: the ring's 8 places cover the recovery (at 2 s it overflows, counted in `dropped`, as the
    # board reports a real loss)
    run = Run(tmp_path, reporter(tmp_path_factory, tmp_path / "build", 8000), config, loop)
    try:
        run.until(lambda: set(server.seqs()) >= set(range(1, 7)), 150)
        usb = run.usb
        said = run.module_said()
    finally:
        run.close()
    assert_exactly_once_in_order(server, usb, 6)
    assert said.count(b"ready") >= 2, "the module did not reset mid-send"   # boot, then the reset
    assert usb.count(b"module ready") >= 2, usb.decode(errors="replace")


def test_a_minute_without_the_server_loses_nothing(tmp_path, tmp_path_factory):
    """Readings every 15 s wait in the board's ring (8) while the server refuses connections for 60 s."""
    loop = VirtualLoop()
    server = Server(loop)
    config = SimConfig(networks={"HomeNet": "s3cr3t99"}, hosts={"example.com": ("127.0.0.1", server.port)},
                       baud=9600, latency_scale=0.1, seed=1)
    run = Run(tmp_path, reporter(tmp_path_factory, tmp_path / "build", 15000), config, loop)
    try:
        assert run.until(lambda: server.seqs() == [1], 60), run.usb
        server.down()
        # the outage: four more readings, a minute of the board's own time
        before = max(taken(run.usb))
        assert run.until(lambda: max(taken(run.usb)) >= before + 4, 90), run.usb
        during = taken(run.usb)
        failures = len(re.findall(rb"post status (?!201)\d+", run.usb))
        server.up()
        # the back-off has grown to about a minute by now (jitter only shortens it), then five posts
        assert run.until(lambda: set(server.seqs()) >= set(range(1, max(during) + 1)), 180), server.seqs()
        usb = run.usb
    finally:
        run.close()
    assert max(during) >= 4, f"too few readings taken during the outage: {during}"
    assert failures >= 2, usb.decode(errors="replace")      # the outage was felt: posts failed and backed off
    assert_exactly_once_in_order(server, usb, max(during))
