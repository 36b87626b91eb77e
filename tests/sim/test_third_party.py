"""The bar for "byte-exact": an unmodified third-party AT client that works with real ESP-01 modules works with
the fake. Adafruit's ESP_ATcontrol (CircuitPython) takes any object with pyserial's UART methods; only the
CircuitPython hardware modules it imports (digitalio, busio) are stood in for here, since no pins are used.
scripts/setup.sh installs the library without its Blinka hardware stack."""
from __future__ import annotations

import sys
import threading
import types

import pytest
import serial

from simtools import ExactServer, sim_url

pytestmark = pytest.mark.slow     # tests/README.md: the tiers


@pytest.fixture
def esp_atcontrol(monkeypatch):
    digitalio = types.ModuleType("digitalio")
    digitalio.DigitalInOut = type("DigitalInOut", (), {})
    digitalio.Direction = type("Direction", (), {"OUTPUT": "output", "INPUT": "input"})
    busio = types.ModuleType("busio")
    busio.UART = object
    monkeypatch.setitem(sys.modules, "digitalio", digitalio)
    monkeypatch.setitem(sys.modules, "busio", busio)
    from adafruit_espatcontrol.adafruit_espatcontrol import ESP_ATcontrol   # fails the test when missing
    return ESP_ATcontrol


def test_adafruit_esp_atcontrol_joins_and_fetches(esp_atcontrol):
    # socket_send reads whatever is waiting until the buffer ends in SEND OK and drops the rest, so a reply that
    # lands in the same read is lost (as on hardware when the server answers within one read of the host). That
    # race made this test fail about 1 run in 5: the server answers once socket_send has returned, never before.
    send_done = threading.Event()

    def reply(request: bytes) -> bytes:
        assert send_done.wait(10), "socket_send never returned"
        return b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\nConnection: close\r\n\r\nhello"
    server = ExactServer(reply)
    uart = serial.serial_for_url(sim_url(server), baudrate=115200, timeout=0.1)
    try:
        esp = esp_atcontrol(uart, 115200)
        esp.begin()
        assert esp.version.startswith("AT version:1.7.4")
        esp.join_AP("HomeNet", "s3cr3t99")
        assert esp.is_connected
        assert esp.local_ip == "192.168.1.23"
        assert esp.socket_connect("TCP", "example.com", 80)
        esp.socket_send(b"GET / HTTP/1.1\r\nHost: example.com\r\n\r\n")
        send_done.set()
        reply = esp.socket_receive(timeout=3)
        assert bytes(reply) == b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\nConnection: close\r\n\r\nhello"
        assert server.requests == [b"GET / HTTP/1.1\r\nHost: example.com\r\n\r\n"]
    finally:
        send_done.set()
        uart.close()
        server.close()


def test_adafruit_esp_atcontrol_sees_a_wrong_password(esp_atcontrol):
    uart = serial.serial_for_url(sim_url(), baudrate=115200, timeout=0.1)
    try:
        esp = esp_atcontrol(uart, 115200)
        esp.begin()
        errors = sys.modules["adafruit_espatcontrol.adafruit_espatcontrol"]
        with pytest.raises(errors.OKError, match="No OK response to AT\\+CWJAP"):
            esp.join_AP("HomeNet", "not-the-password", timeout=2, retries=1)
        assert not esp.is_connected
    finally:
        uart.close()
