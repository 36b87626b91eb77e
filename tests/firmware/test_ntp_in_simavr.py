"""The library's NtpTime example (EspAtUDP), compiled for the Uno with the real `pio ci` as a user would, run in
simavr against the fake ESP-01 (pins 2/3, 9600 baud) whose host map sends pool.ntp.org to an NTP server on
loopback, on the virtual clock: the board, the fake and the server share one clock. Pass = the request is a
48-byte NTP client packet and the time the server sent is on USB, to the second; a server that never answers is
"no answer" after the example's 5 s, on AT 1.7 and on the 2.x dialect.
Needs gcc-avr, arduino-core-avr, simavr and libsimavr-dev: missing tools fail these tests, they do not skip."""
from __future__ import annotations

import asyncio
import struct
from typing import List, Optional

import pytest

import builds
from esp8266sim import SimConfig
from esp8266sim.lockstep import LockStepBoard
from esp8266sim.vclock import VirtualLoop
from unosim.lockstep_program import SimavrProgram

pytestmark = pytest.mark.slow     # tests/README.md: the tiers (each runs a simulated Uno)

SETTINGS = builds.EXAMPLE_SETTINGS
SSID, PASSWORD = SETTINGS["ESPAT_WIFI_SSID"], SETTINGS["ESPAT_WIFI_PASS"]
NTP_HOST = "pool.ntp.org"           # the example's default server
SEVENTY_YEARS = 2208988800          # NTP counts from 1900, Unix time from 1970
UNIX = 1796654096                   # 2026-12-07 14:34:56 UTC
BOARD_SECONDS = 40                  # the bound on a run, in the board's own seconds


class NtpServer(asyncio.DatagramProtocol):
    """Answers each datagram with a 48-byte server packet whose transmit time is `unix` (None: never answers);
    keeps what it got."""

    def __init__(self, unix: Optional[int]) -> None:
        self.unix = unix
        self.requests: List[bytes] = []
        self.transport = None

    def connection_made(self, transport) -> None:
        self.transport = transport

    def datagram_received(self, data: bytes, addr) -> None:
        self.requests.append(data)
        if self.unix is None:
            return
        seconds = self.unix + SEVENTY_YEARS
        # LI 0, version 4, server; stratum 2; the originate time is the client's transmit time
        packet = bytes([0x24, 2, 6, 0xEC]) + bytes(20) + data[40:48] + struct.pack(">II", seconds, 0) * 2
        self.transport.sendto(packet, addr)


@pytest.fixture(scope="session")
def elf(tmp_path_factory):
    return builds.example(tmp_path_factory, "NtpTime")


def run(elf, tmp_path, unix: Optional[int], dialect: str, wanted: bytes):
    """Runs the example until USB shows `wanted` or BOARD_SECONDS pass; returns (USB bytes, datagrams received)."""
    loop = VirtualLoop()
    server = NtpServer(unix)
    endpoint = loop.create_task(loop.create_datagram_endpoint(lambda: server, local_addr=("127.0.0.1", 0)))
    loop.run_until(loop.time())
    transport, _ = endpoint.result()
    port = transport.get_extra_info("sockname")[1]
    config = SimConfig(networks={SSID: PASSWORD}, hosts={NTP_HOST: ("127.0.0.1", port)}, baud=9600,
                       latency_scale=0.1, dialect=dialect, seed=1)
    usb_log = tmp_path / "usb.txt"
    board = LockStepBoard(loop, config, SimavrProgram(elf, seed=1, wire_log=tmp_path / "wire.txt"),
                          adc=lambda t: (215, 314, 5000), usb_log=usb_log)
    usb = b""
    try:
        board.power_on()
        for second in range(1, BOARD_SECONDS + 1):
            assert board.run_until(float(second)) is None, board.runs[-1].ended
            usb = usb_log.read_bytes() if usb_log.exists() else b""
            if wanted in usb:
                break
    finally:
        transport.close()
        board.close()
        loop.close()
    return usb, server.requests


@pytest.mark.parametrize("dialect", ["1", "2"], ids=["at1.7", "at2"])
def test_the_servers_time_reaches_usb_to_the_second(elf, tmp_path, dialect):
    wanted = b"UTC 14:34:56 unix %d\r\n" % UNIX
    usb, requests = run(elf, tmp_path, UNIX, dialect, wanted)
    assert wanted in usb, usb
    assert b"no answer" not in usb, usb
    assert len(requests) == 1 and len(requests[0]) == 48 and requests[0][0] == 0xE3, requests


@pytest.mark.parametrize("dialect", ["1", "2"], ids=["at1.7", "at2"])
def test_a_server_that_never_answers_is_no_answer(elf, tmp_path, dialect):
    usb, requests = run(elf, tmp_path, None, dialect, b"no answer\r\n")
    assert b"no answer\r\n" in usb and b"UTC" not in usb, usb
    assert len(requests) == 1, requests             # the request went out: the silence is the server's
