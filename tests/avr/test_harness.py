"""The compiled Uno firmware, run in simavr and wired to the fake ESP-01: the bridge sketch as the first proof.

The ELF is built by `pio run` (conftest.py), exactly as CI builds it; the harness drives
SoftwareSerial's pins 2/3 bit by bit at 9600 baud against the fake module's TCP front end, and the Uno's USB
serial is the harness's stdin/stdout. Missing simavr or gcc-avr fails the test (scripts/setup.sh installs them).
"""
from __future__ import annotations

import time
from pathlib import Path

import pytest

from esp8266sim import SimConfig, Simulator
from unosim import HarnessError, Uno

@pytest.fixture(scope="session")
def bridge_elf(built) -> Path:
    return built / "bridge" / "firmware.elf"


def _until_answering(uno: Uno, seconds: float = 15.0) -> None:
    """AT until OK, as a person at a terminal does: the sketch may still be starting when the first one goes."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        mark = len(uno.output)
        uno.usb_write(b"AT\r\n")
        try:
            uno.wait_for(b"OK\r\n", timeout=0.5, start=mark)
            return
        except HarnessError:
            continue
    raise AssertionError(f"no OK through the bridge in {seconds} s; USB showed {uno.output[-200:]!r}")


def test_bridge_sketch_carries_at_commands_both_ways(bridge_elf):
    config = SimConfig(networks={"HomeNet": "s3cr3t99"}, baud=9600, latency_scale=0.05)
    with Simulator(config) as sim:
        esp = sim.serve_tcp().split("//")[1]
        with Uno.sketch(bridge_elf, esp=esp, wiring="softserial", esp_baud=9600) as uno:
            _until_answering(uno)
            mark = len(uno.output)
            uno.usb_write(b"ATE0\r\n")
            end = uno.wait_for(b"OK\r\n", timeout=10, start=mark)
            assert uno.output[mark:end] == b"ATE0\r\r\n\r\nOK\r\n"
            mark = len(uno.output)
            uno.usb_write(b"AT+GMR\r\n")
            end = uno.wait_for(b"OK\r\n", timeout=10, start=mark)
            answer = uno.output[mark:end]
            assert answer.startswith(b"AT version:1.7.4.0")
            assert answer.endswith(b"Bin version(Wroom 02):1.7.4\r\nOK\r\n")
            mark = len(uno.output)
            uno.usb_write(b'AT+CWJAP_CUR="HomeNet","s3cr3t99"\r\n')
            end = uno.wait_for(b"OK\r\n", timeout=10, start=mark)
            assert uno.output[mark:end] == b"WIFI CONNECTED\r\nWIFI GOT IP\r\n\r\nOK\r\n"


@pytest.fixture(scope="session")
def reporter_elf(built) -> Path:
    return built / "reporter_softserial" / "firmware.elf"


def test_eeprom_file_survives_power_cycles(reporter_elf, tmp_path):
    """The reporter counts boots in EEPROM; the harness keeps EEPROM in a file between runs, as a board does."""
    eeprom = tmp_path / "eeprom.bin"
    with Simulator(SimConfig(baud=9600, latency_scale=0.05)) as sim:
        esp = sim.serve_tcp().split("//")[1]
        for boot in (1, 2, 3):
            with Uno.sketch(reporter_elf, esp=esp, wiring="softserial", esp_baud=9600, eeprom=eeprom) as uno:
                uno.wait_for(b"boot", timeout=10)
            image = eeprom.read_bytes()
            assert len(image) == 1024
            # boot_identity.h: boot N is written as the N-th generation, into copy N mod 4 (9 bytes each)
            assert int.from_bytes(image[boot % 4 * 9:boot % 4 * 9 + 4], "little") == boot
