"""Every HTTP example, compiled for the Uno and run in simavr against the fake ESP-01, in the conditions where the
popular ESP8266 libraries lose the answer: a server that answers at once and closes, a server 0.5 s late, a reply
larger than the Uno's 2 KB of RAM (it must stream through), and a 20-byte reply glued to SEND OK -- each on AT 1.7
and on the 2.x dialect. Pass = the server's reply byte for byte on USB (the Reporter example prints no body: its
outcome, status 0 and HTTP 200, once the answer ended). The programs are the library's HTTP examples (built with the
real `pio ci`, as a PlatformIO user would) and the http_get sketch; NtpTime (UDP) runs in test_ntp_in_simavr.py,
MqttPublish in test_mqtt_in_simavr.py.
Needs gcc-avr, arduino-core-avr, simavr and libsimavr-dev: missing tools fail these tests, they do not skip."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable
from pathlib import Path

import pytest

import builds
from esp8266sim import SimConfig
from esp8266sim.lockstep import LockStepBoard
from esp8266sim.vclock import VirtualLoop
from unosim.lockstep_program import SimavrProgram
from simtools import serve_exact

pytestmark = pytest.mark.slow     # tests/README.md: the tiers (each runs a simulated Uno)

# Built on tests/builds.py's settings, once per run: the http_get env from `built`, the examples by builds.example.
SETTINGS = builds.EXAMPLE_SETTINGS
SSID, PASSWORD, HOST = SETTINGS["ESPAT_WIFI_SSID"], SETTINGS["ESPAT_WIFI_PASS"], SETTINGS["ESPAT_SERVER_HOST"]
BOARD_SECONDS = 60      # the bound on a run, in the board's own seconds
GET = b"GET / HTTP/1.1\r\nHost: example.com\r\nConnection: close\r\n\r\n"


@dataclass
class Program:
    """One sketch: how it is built (a platformio.ini env, or a library example through `pio ci`), whether its
    request is right, and what on USB shows the whole answer arrived: the reply itself for a sketch that prints
    all of it, else the body after its status line."""
    name: str
    example: bool
    request_ok: Callable[[bytes], bool]
    usb_after: Callable[[bytes], bytes]   # reply -> the bytes USB must show, byte for byte
    passive: bool = True                  # reads with AT+CIPRECVDATA (EspAtClient) rather than from +IPD

    def build(self, tmp_path_factory, built: Path) -> Path:
        return builds.example(tmp_path_factory, self.name) if self.example else built / self.name / "firmware.elf"


def body_of(reply: bytes) -> bytes:
    return reply.split(b"\r\n\r\n", 1)[1]


PROGRAMS = [
    Program("http_get", False, lambda r: r == GET, lambda reply: reply + b"\r\nHTTP status ", passive=False),
    Program("WebClient", True, lambda r: r == GET, lambda reply: reply + b"\r\n-- closed, bytes received: %d\r\n" %
            len(reply)),
    # HttpPost prints "seq 1: HTTP <status>", then the answer's body, then a line end
    Program("HttpPost", True, lambda r: r.startswith(b"POST /api/readings HTTP/1.1\r\n") and b'"seq":1,' in r,
            lambda reply: b"seq 1: HTTP 200\r\n" + body_of(reply) + b"\r\n"),
    # Reporter drives the driver's exchange (no passive receive: the answer comes as +IPD) and prints the outcome
    # only once the whole answer was read: "seq 1: status 0, HTTP 200"
    Program("Reporter", True, lambda r: r.startswith(b"POST /api/readings HTTP/1.1\r\n") and b'"seq":1,' in r,
            lambda reply: b"seq 1: status 0, HTTP 200\r\n", passive=False),
]


def reply_of(body: bytes) -> bytes:
    return b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\nConnection: close\r\n\r\n" % len(body) + body


PAGE = bytes(range(48, 123)) * 3                              # 225 bytes
BIG = bytes((i * 7 + 32) % 95 + 32 for i in range(3000))     # 3,000 bytes of text: more than the Uno's RAM
GLUED = b"HTTP/1.0 200 OK\r\n\r\nA"                          # the whole reply: 20 bytes

# name: (reply, seconds the server waits before answering, the fake's latency scale)
CONDITIONS = {
    "at-once-and-close": (reply_of(PAGE), 0.0, 0.0),
    "half-a-second-late": (reply_of(PAGE), 0.5, 0.1),
    "larger-than-ram": (reply_of(BIG), 0.0, 0.1),
    "20-bytes-glued-to-send-ok": (GLUED, 0.0, 0.0),
}


@pytest.fixture(scope="session")
def elves(tmp_path_factory, built):
    return {p.name: p.build(tmp_path_factory, built) for p in PROGRAMS}


def read_wire_log(path: Path) -> list:
    """The harness's wire log: [(direction, emulated µs, byte)]."""
    rows = []
    for line in path.read_text().splitlines():
        d, us, b = line.split()
        rows.append((d, float(us), int(b, 16)))
    return rows


def longest_pause_us(wire: list) -> float:
    """The longest pause between two bytes the Uno received from the last byte of "SEND OK\\r\\n" to the "+IPD"
    after it: about one byte time (1,042 µs at 9600 baud) when the reply came glued to SEND OK."""
    heard = [(us, b) for d, us, b in wire if d == "R"]
    text = bytes(b for _, b in heard)
    end = text.index(b"SEND OK\r\n") + len(b"SEND OK\r\n")
    start = text.index(b"+IPD", end)
    return max(heard[i + 1][0] - heard[i][0] for i in range(end - 1, start))


def run_once(elf: Path, wire_log: Path, program, condition: str, dialect: str) -> None:
    """One run of `program` against the fake in `condition`, in lock step on the virtual clock
    (unosim.lockstep_program): checks the request the server got and the reply on USB; the wire log is left at
    `wire_log`. The server, the fake and the board share one clock, so the server's delay and the fake's latency are
    what the board sees however loaded the machine is, and a run takes the emulator's time, not the board's."""
    reply, late, latency = CONDITIONS[condition]
    loop = VirtualLoop()
    port, requests = serve_exact(loop, lambda request: reply, late=late)   # the server's delay is what is tested
    config = SimConfig(networks={SSID: PASSWORD}, hosts={HOST: ("127.0.0.1", port)}, baud=9600,
                       latency_scale=latency, dialect=dialect, seed=1)
    usb_log = wire_log.with_name("usb.txt")
    usb_log.unlink(missing_ok=True)
    board = LockStepBoard(loop, config, SimavrProgram(elf, seed=1, wire_log=wire_log),
                          adc=lambda t: (215, 314, 5000), usb_log=usb_log)
    wanted = program.usb_after(reply)
    try:
        board.power_on()
        for second in range(1, BOARD_SECONDS + 1):
            assert board.run_until(float(second)) is None, board.runs[-1].ended
            usb = usb_log.read_bytes()
            if wanted in usb:
                break
    finally:
        board.close()
        loop.close()
    assert len(requests) >= 1 and program.request_ok(requests[0]), requests[:1]
    assert wanted in usb, usb


def glued(wire: list, passive: bool) -> bool:
    """Whether the run met the glued condition. Passive: the module announced the whole reply as one 20-byte piece.
    Active: +IPD followed SEND OK back to back on the wire (9600 baud): less than two byte times of idle line between
    two bytes; a reply that came on its own leaves the line idle for milliseconds."""
    if passive:
        return b"+IPD,0,20\r\n" in bytes(b for d, _, b in wire if d == "R")
    return longest_pause_us(wire) < 2 * 1042


@pytest.mark.parametrize("dialect", ["1", "2"], ids=["at1.7", "at2"])
@pytest.mark.parametrize("condition", list(CONDITIONS))
@pytest.mark.parametrize("program", PROGRAMS, ids=[p.name for p in PROGRAMS])
def test_the_reply_reaches_usb_byte_for_byte(elves, tmp_path, program, condition, dialect):
    wire_log = tmp_path / "wire.txt"
    run_once(elves[program.name], wire_log, program, condition, dialect)
    if condition.startswith("20-bytes"):
        # On the virtual clock the server answers the moment the request is whole, so the reply reaches the fake
        # within SEND OK's time on the wire in every run (on the wall clock a thread's answer came glued only when it
        # was scheduled in time: the test ran up to three times and took the first glued run)
        wire = read_wire_log(wire_log)
        pause = None if program.passive else longest_pause_us(wire)
        assert glued(wire, program.passive), f"the reply did not come glued to SEND OK (pause, µs: {pause})"
