"""The compiled http_get sketch in simavr: its request is a proper HTTP/1.1 GET, byte for byte, and the whole
answer, larger than the driver's read buffer, reaches USB intact (the driver holds bytes back rather than drop them)."""
import pytest

from builds import SETTINGS
from esp8266sim import SimConfig, Simulator
from simtools import ExactServer
from unosim import Uno

pytestmark = pytest.mark.slow     # tests/README.md: the tiers

BODY = bytes(range(48, 123)) * 3  # 225 bytes, several +IPD frames' worth at the sketch's pace
REPLY = b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\nConnection: close\r\n\r\n" % len(BODY) + BODY


def test_get_request_is_exact_and_the_answer_arrives_whole(built):
    assert SETTINGS["ESPAT_SERVER_HOST"] == "example.com" and SETTINGS["ESPAT_SERVER_PORT"] == "80"
    server = ExactServer(lambda request: REPLY)     # one request in, the fixed reply out
    config = SimConfig(networks={SETTINGS["ESPAT_WIFI_SSID"]: SETTINGS["ESPAT_WIFI_PASS"]},
                       hosts={"example.com": ("127.0.0.1", server.port)}, baud=9600, latency_scale=0.1)
    try:
        with Simulator(config) as sim:
            with Uno.sketch(built / "http_get" / "firmware.elf", esp=sim.serve_tcp().split("//", 1)[1]) as uno:
                end = uno.wait_for(b"HTTP status 200\r\n", timeout=60)
                usb = uno.output[:end]
    finally:
        server.close()
    assert server.requests == [b"GET / HTTP/1.1\r\nHost: example.com\r\nConnection: close\r\n\r\n"]
    assert usb.startswith(REPLY), usb
    assert b"bytes lost" not in usb
