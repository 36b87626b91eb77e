"""A POST whose port fails once a byte of it has left (an adapter unplugged, a socket reset) may have been delivered:
DeliveryUnknown (exit 4), never a plain I/O error a script would take for "not sent" and retry. And the bounds of an
exchange: without a whole-operation timeout, only a server that sends nothing for `idle` seconds ends it."""
from __future__ import annotations

import pytest
import serial

from espat.client import EspAt
from espat.errors import CommandTimeout, DeliveryUnknown
from espat.httpclient import request
from simtools import ExactServer, sim_url

CREATED = b"HTTP/1.1 201 Created\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"


class DyingPort:
    """A port that fails, as an unplugged adapter does, once the request's first bytes are written (`during`: the
    write of them fails half-way; otherwise every read and write after it does)."""

    def __init__(self, port, during: bool) -> None:
        self._port, self._during, self.dead = port, during, False

    def __getattr__(self, name):
        return getattr(self._port, name)

    @property
    def in_waiting(self) -> int:
        return 0 if self.dead else self._port.in_waiting

    def read(self, size: int = 1) -> bytes:
        if self.dead:
            raise serial.SerialException("device reports readiness to read but returned no data (device "
                                         "disconnected or multiple access on port?)")
        return self._port.read(size)

    def write(self, data: bytes) -> int:
        if self.dead:
            raise serial.SerialException("write failed: [Errno 5] Input/output error")
        if data.startswith((b"POST ", b"GET ")):
            self.dead = True
            if self._during:
                self._port.write(data[:len(data) // 2])
                raise serial.SerialException("write failed: [Errno 5] Input/output error")
        return self._port.write(data)


@pytest.mark.parametrize("during", [False, True], ids=["after-the-write", "during-the-write"])
def test_a_post_whose_port_dies_after_a_byte_left_may_have_been_delivered(during):
    site = ExactServer(lambda request: CREATED)
    try:
        esp = EspAt(sim_url(site))
        esp.sync()
        esp.join("HomeNet", "s3cr3t99")
        esp.port = DyingPort(esp.port, during)
        with pytest.raises(DeliveryUnknown, match="may have been delivered: the port failed") as unknown:
            request(esp, "POST", "http://example.com/r", b'{"t":1}', idempotency_key="r-17")
        assert esp.port.dead, "the fault never fired"
        assert isinstance(unknown.value.cause, serial.SerialException)
        if not during:
            assert site.got_request.wait(10)            # it was, in fact, delivered
    finally:
        site.close()


def test_a_get_whose_port_dies_is_the_ports_error():
    site = ExactServer(lambda request: CREATED)
    try:
        esp = EspAt(sim_url(site))
        esp.sync()
        esp.join("HomeNet", "s3cr3t99")
        esp.port = DyingPort(esp.port, False)
        with pytest.raises(serial.SerialException):     # a GET changes nothing: no doubt to report
            request(esp, "GET", "http://example.com/r")
    finally:
        site.close()


def _trickling() -> ExactServer:
    body = b"x" * 3000        # 300 bytes every 0.2 s: about 2 s in all (past both bounds below), never 0.9 s idle
    return ExactServer(lambda request: b"HTTP/1.1 200 OK\r\nContent-Length: 3000\r\nConnection: close\r\n\r\n"
                       + body, trickle=(300, 0.2))


@pytest.mark.slow
def test_the_idle_bound_lets_a_steady_download_finish():
    site = _trickling()
    try:
        with EspAt(sim_url(site)) as esp:
            esp.sync()
            esp.join("HomeNet", "s3cr3t99")
            got = bytearray()
            response = request(esp, "GET", "http://example.com/", sink=got.extend, timeout=None, idle=0.9)
        assert response.status == 200 and bytes(got) == b"x" * 3000
    finally:
        site.close()


def test_a_whole_operation_bound_ends_a_flowing_download_and_says_so():
    site = _trickling()
    try:
        with EspAt(sim_url(site)) as esp:
            esp.sync()
            esp.join("HomeNet", "s3cr3t99")
            with pytest.raises(CommandTimeout, match="whole operation's bound; data was still arriving"):
                request(esp, "GET", "http://example.com/", timeout=1.0)
    finally:
        site.close()
