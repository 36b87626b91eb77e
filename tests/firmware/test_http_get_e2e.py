"""The compiled http_get sketch in simavr: its request is a proper HTTP/1.1 GET, byte for byte, and the whole
answer, larger than the driver's read buffer, reaches USB intact (the driver holds bytes back rather than drop them)."""
import os
import subprocess
import sys
from pathlib import Path

import pytest

from esp8266sim import SimConfig, Simulator
from simtools import ExactServer
from unosim import Uno

pytestmark = pytest.mark.slow     # tests/README.md: the tiers

ROOT = Path(__file__).resolve().parents[2]
BODY = bytes(range(48, 123)) * 3  # 225 bytes, several +IPD frames' worth at the sketch's pace
REPLY = b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\nConnection: close\r\n\r\n" % len(BODY) + BODY


def test_get_request_is_exact_and_the_answer_arrives_whole(tmp_path):
    out = tmp_path / "fw"
    env = {**os.environ, "ESPAT_SERVER_HOST": "example.com", "ESPAT_SERVER_PORT": "80",
           "ESPAT_WIFI_SSID": "HomeNet", "ESPAT_WIFI_PASS": "s3cr3t"}
    done = subprocess.run([sys.executable, str(ROOT / "firmware" / "tools" / "build.py"), "--out", str(out),
                           "http_get"], env=env, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    server = ExactServer(lambda request: REPLY)     # one request in, the fixed reply out
    config = SimConfig(networks={"HomeNet": "s3cr3t"}, hosts={"example.com": ("127.0.0.1", server.port)},
                       baud=9600, latency_scale=0.1)
    try:
        with Simulator(config) as sim:
            with Uno.sketch(out / "http_get" / "firmware.elf", esp=sim.serve_tcp().split("//", 1)[1]) as uno:
                end = uno.wait_for(b"HTTP status 200\r\n", timeout=60)
                usb = uno.output[:end]
    finally:
        server.close()
    assert server.requests == [b"GET / HTTP/1.1\r\nHost: example.com\r\nConnection: close\r\n\r\n"]
    assert usb.startswith(REPLY), usb
    assert b"bytes lost" not in usb
