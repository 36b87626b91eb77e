"""Slow-loris: clients that dribble their headers or their body, or open a connection and say nothing, each get
408 (logged once) within the collector's limits, while other devices' readings are stored as usual."""
import logging
import socket
import time

import pytest

from espat.collect.app import Settings
from espat.collect.server import serve_in_thread

from collect_http import body, post, reading, stored

pytestmark = pytest.mark.slow     # tests/README.md: the tiers

HEADER_TIMEOUT = 1.5
BODY_TIMEOUT = 1.5


def _connect(url: str) -> socket.socket:
    host, port = url.split("//")[1].split(":")
    return socket.create_connection((host, int(port)), timeout=30)


def _read_all(s: socket.socket) -> bytes:
    data = b""
    while True:
        chunk = s.recv(4096)
        if not chunk:
            return data
        data += chunk


def test_slow_clients_get_408_and_others_are_served(tmp_path, caplog):
    caplog.set_level(logging.INFO, logger="espat.collect")
    settings = Settings(f"sqlite:///{tmp_path / 'c.sqlite3'}", rate=1000, burst=1000, body_timeout=BODY_TIMEOUT)
    with serve_in_thread(settings, header_timeout=HEADER_TIMEOUT) as running:
        header_dribblers = [_connect(running.url) for _ in range(10)]
        for s in header_dribblers:
            s.sendall(b"POST /api/readings HTTP/1.1\r\nHost: x\r\n")
        silent = _connect(running.url)
        payload = body(reading())
        body_dribbler = _connect(running.url)
        body_dribbler.sendall(b"POST /api/readings HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                              b"Content-Length: %d\r\n\r\n" % len(payload) + payload[:10])
        # while they hold their connections, a device posts as usual
        assert post(running.url, reading(device="prompt", seq=1)).status == 201
        # they keep dribbling, a byte at a time, and are cut off at the limit anyway
        answers = {}
        deadline = time.monotonic() + 20
        pending = {id(s): s for s in header_dribblers + [body_dribbler]}
        while pending and time.monotonic() < deadline:
            for key, s in list(pending.items()):
                try:
                    s.sendall(b"X")
                except OSError:
                    answers[key] = _read_all(s)
                    del pending[key]
            time.sleep(0.2)
        for s in pending.values():
            s.settimeout(10)
            answers[id(s)] = _read_all(s)
        silent.settimeout(HEADER_TIMEOUT + 15)
        answers[id(silent)] = _read_all(silent)
        for s in header_dribblers + [body_dribbler, silent]:
            s.close()
        assert all(a.startswith(b"HTTP/1.1 408 ") for a in answers.values()), answers
        assert len(answers) == 12
        refused = [r.getMessage() for r in caplog.records if r.getMessage().startswith("refused 408")]
        assert len(refused) == 12, refused
        assert sum("body not received" in m for m in refused) == 1
        assert [r["device"] for r in stored(running.url)] == ["prompt"]
        assert post(running.url, reading(device="prompt", seq=2)).status == 201


def test_an_idle_keep_alive_connection_is_not_a_slow_client(tmp_path, caplog):
    """Between requests uvicorn's keep-alive timeout (5 s) applies; the guard is for requests that never complete.
    A connection idle for longer than the guard's limit, then used again, is served."""
    import http.client
    caplog.set_level(logging.INFO, logger="espat.collect")
    with serve_in_thread(Settings(f"sqlite:///{tmp_path / 'c.sqlite3'}"), header_timeout=HEADER_TIMEOUT) as running:
        host, port = running.url.split("//")[1].split(":")
        conn = http.client.HTTPConnection(host, int(port), timeout=30)
        conn.request("POST", "/api/readings", body=body(reading(seq=1)))
        assert conn.getresponse().read() and True
        time.sleep(HEADER_TIMEOUT + 1)             # idle, between requests: the scenario, not a synchronisation
        conn.request("POST", "/api/readings", body=body(reading(seq=2)))     # same connection
        response = conn.getresponse()
        assert response.status == 201
        response.read()
        conn.close()
        assert not [r for r in caplog.records if r.getMessage().startswith("refused")]
