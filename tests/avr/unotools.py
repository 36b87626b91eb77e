"""Helpers for the virtual Uno's tests: the settings sketches are built with, reading what the server got."""
from __future__ import annotations

import json
import re
import time

import serial

from simtools import ExactServer

from builds import SETTINGS  # noqa: F401  (what `built` is built with: tests/builds.py)
# an LM35 gives 10 mV per °C; the ADC's step at Vcc 5 V is 4.9 mV, so a reading is within 0.5 °C of the truth
LM35_RESOLUTION_C = 0.5
# Free SRAM at the low-water mark each sketch must keep (issue 11: 700 B for the reporters).
MIN_FREE_RAM = {"reporter_softserial": 700, "reporter_hwserial": 700, "http_get": 300, "bridge": 300}



def readings(server: ExactServer) -> list:
    return [json.loads(r.partition(b"\r\n\r\n")[2]) for r in list(server.requests)]


def wait_for_readings(server: ExactServer, count: int, seconds: float = 60.0, after: int = 0) -> list:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        got = readings(server)[after:]
        if len(got) >= count:
            return got
        time.sleep(0.2)
    raise AssertionError(f"{count} readings did not arrive in {seconds} s; the server got {readings(server)}")


def until_answering(port: serial.Serial, seconds: float = 20.0) -> None:
    """AT until OK, as a person at a terminal does: the board is in Optiboot for a moment after the open."""
    deadline = time.monotonic() + seconds
    got = b""
    while time.monotonic() < deadline:
        port.write(b"AT\r\n")
        got += port.read(64)
        if b"OK\r\n" in got:
            return
    raise AssertionError(f"no OK through the bridge in {seconds} s; got {got!r}")


def read_until_seen(port: serial.Serial, pattern: bytes, seconds: float = 60.0) -> bytes:
    """What the port gives until the regular expression `pattern` matches it (across lines), or for `seconds` when it
    never does. The virtual Uno runs slower than real time on a loaded machine: an answer is waited for until it is
    whole, within a generous bound, never for one read's short timeout."""
    got = b""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline and not re.search(pattern, got, re.S):
        got += port.read(256)
    return got
