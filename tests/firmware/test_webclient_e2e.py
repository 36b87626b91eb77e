"""The library's WebClient example, compiled for the Uno with `pio ci` and run in simavr against the fake ESP-01
(pins 2/3 at 9600) and a loopback HTTP server, in both dialects: its request is a proper HTTP/1.1 GET, byte for
byte, and the whole answer -- many times the client's 32-byte buffer, sent at once and closed by the server --
reaches USB byte for byte, read through passive receive (AT+CIPRECVDATA), nothing lost.
Needs gcc-avr, arduino-core-avr, simavr and libsimavr-dev: missing tools fail these tests, they do not skip."""
import re

import pytest

import builds
from esp8266sim import SimConfig, Simulator
from unosim import Uno
from simtools import ExactServer

pytestmark = pytest.mark.slow     # tests/README.md: the tiers (each runs a simulated Uno)

SETTINGS = builds.EXAMPLE_SETTINGS   # the example is built once per run on these (tests/builds.py)
BODY = bytes(range(48, 123)) * 4  # 300 bytes
REPLY = b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\nConnection: close\r\n\r\n" % len(BODY) + BODY
REQUEST = b"GET / HTTP/1.1\r\nHost: example.com\r\nConnection: close\r\n\r\n"


@pytest.fixture(scope="module")
def elf(tmp_path_factory):
    return builds.example(tmp_path_factory, "WebClient")


@pytest.mark.parametrize("dialect", ["1", "2"])
def test_webclient_gets_the_whole_page(elf, tmp_path, dialect):
    server = ExactServer(lambda request: REPLY)  # answers at once and closes
    config = SimConfig(networks={SETTINGS["ESPAT_WIFI_SSID"]: SETTINGS["ESPAT_WIFI_PASS"]},
                       hosts={SETTINGS["ESPAT_SERVER_HOST"]: ("127.0.0.1", server.port)},
                       baud=9600, latency_scale=0.1, dialect=dialect, log_path=str(tmp_path / "module.log"))
    try:
        with Simulator(config) as sim:
            with Uno.sketch(elf, esp=sim.serve_tcp().split("//", 1)[1]) as uno:
                end = uno.wait_for(b"bytes received: %d\r\n" % len(REPLY), timeout=90)
                usb = uno.output[:end]
    finally:
        server.close()
    assert server.requests == [REQUEST]
    assert usb.startswith(REPLY), usb
    said = (tmp_path / "module.log").read_text()
    assert "AT+CIPRECVMODE=1" in said and "AT+CIPRECVDATA=0," in said  # read through passive receive
    asked = [int(n) for n in re.findall(r"AT\+CIPRECVDATA=0,(\d+)", said)]
    assert max(asked) <= 32, asked  # never more than the client's buffer
