"""The compiled Uno firmware, run in simavr and wired to the fake ESP-01: the bridge sketch as the first proof.

The ELF is built by firmware/tools/build.py from platformio.ini, exactly as CI builds it; the harness drives
SoftwareSerial's pins 2/3 bit by bit at 9600 baud against the fake module's TCP front end, and the Uno's USB
serial is the harness's stdin/stdout. Missing simavr or gcc-avr fails the test (scripts/setup.sh installs them).
"""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from esp8266sim import SimConfig, Simulator
from esp8266sim.avr import Uno

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def bridge_elf(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("fw")
    done = subprocess.run([sys.executable, str(ROOT / "firmware" / "tools" / "build.py"), "bridge", "--out", str(out)],
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    return out / "bridge" / "firmware.elf"


def test_bridge_sketch_carries_at_commands_both_ways(bridge_elf):
    config = SimConfig(networks={"HomeNet": "s3cr3t99"}, baud=9600, latency_scale=0.05)
    with Simulator(config) as sim:
        esp = sim.serve_tcp().split("//")[1]
        with Uno(bridge_elf, esp=esp, esp_on="soft", esp_baud=9600) as uno:
            uno.wait_for(b"ready\r\n", timeout=10)  # the module's boot banner, through the running sketch
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
