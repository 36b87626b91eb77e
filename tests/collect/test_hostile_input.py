"""Probes a stranger can send the collector: each is a 400 with one line saying what is wrong, never a 500 with a
traceback in the log; and a crowd of watchers on the read side cannot take the place of readings and health."""
import logging
import resource
import signal
import socket

import pytest

from collect_http import body, post, reading, request, stored
from test_process import CollectorProcess

PROBES = [
    ("GET", "/api/readings?limit=%C2%B2", {}, "limit must be a whole number"),        # ?limit=²
    ("GET", "/api/readings?tail=%C2%B2", {}, "tail must be a whole number"),
    ("GET", "/api/readings?after=%C2%B2", {}, "after must be a reading id"),
    ("GET", "/api/readings?after=" + "9" * 23, {}, "after must be a reading id"),     # past SQLite's 64 bits
    ("GET", "/api/readings?after=" + "1" * 5000, {}, "after must be a reading id"),   # past int()'s digit limit
    ("GET", "/api/events?after=%C2%B2", {}, "after must be a reading id"),
    ("GET", "/api/events", {"Last-Event-ID": "\u00b2"}, "Last-Event-ID must be a reading id"),
    ("GET", "/api/events", {"Last-Event-ID": "9" * 23}, "Last-Event-ID must be a reading id"),
    ("GET", "/api/events", {"Last-Event-ID": "7" * 5000}, "Last-Event-ID must be a reading id"),
    ("POST", "/api/readings", {}, "nested too deep"),                                 # 1,020 '['
]


def _send(url: str, method: str, path: str, headers: dict):
    host, port = url.split("//")[1].split(":")
    data = b"[" * 1020 if method == "POST" else None
    with socket.create_connection((host, int(port)), timeout=30) as s:
        head = f"{method} {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n"
        head += "".join(f"{k}: {v}\r\n" for k, v in headers.items())
        if data is not None:
            head += f"Content-Type: application/json\r\nContent-Length: {len(data)}\r\n"
        s.sendall(head.encode("latin-1") + b"\r\n" + (data or b""))
        answer = b""
        while chunk := s.recv(65536):
            answer += chunk
    status_line, _, rest = answer.partition(b"\r\n")
    return int(status_line.split()[1]), rest.partition(b"\r\n\r\n")[2].decode()


@pytest.mark.parametrize("method, path, headers, words", PROBES, ids=[f"{p[:30]}{list(h)}" for _, p, h, _ in PROBES])
def test_a_hostile_request_is_a_400_in_one_line_not_a_500(collector, caplog, method, path, headers, words):
    assert post(collector.url, reading(seq=1)).status == 201
    caplog.set_level(logging.INFO)
    status, text = _send(collector.url, method, path, headers)
    assert status == 400, text[:300]
    assert words in text and "\n" not in text
    assert [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR] == []
    assert len(stored(collector.url)) == 1 and request(collector.url, "GET", "/healthz").status == 200


def test_thousands_of_event_streams_leave_readings_and_health_alone(tmp_path):
    """About 2,000 open /api/events streams once took every connection the server allowed, and every device POST
    and /healthz got 503. The read side now has its own cap (100 streams): the ones past it are refused, the
    readings and the health check are not."""
    attempts = 2100
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    need = 2 * attempts + 200          # this process's sockets and the collector's (it inherits the limit)
    assert hard >= need, f"this test needs {need} open files (ulimit -Hn is {hard})"
    resource.setrlimit(resource.RLIMIT_NOFILE, (max(soft, need), hard))
    collector = CollectorProcess(f"sqlite:///{tmp_path / 'c.sqlite3'}")
    held, refused = [], 0
    try:
        for _ in range(attempts):
            s = socket.create_connection(("127.0.0.1", collector.port), timeout=30)
            s.sendall(b"GET /api/events HTTP/1.1\r\nHost: x\r\n\r\n")
            head = b""
            while b"\r\n" not in head:
                chunk = s.recv(1024)
                assert chunk, "the collector closed an event stream without an answer"
                head += chunk
            if head.startswith(b"HTTP/1.1 200 "):
                held.append(s)
            else:
                assert head.startswith(b"HTTP/1.1 503 "), head
                refused += 1
                s.close()
        answer = post(collector.url, body(reading(seq=1)))
        assert answer.status == 201, (answer, len(held))
        assert request(collector.url, "GET", "/healthz").status == 200
        assert len(held) == 100 and refused == attempts - 100
        # a place given back is a place another watcher can take
        for s in held[:10]:
            s.close()
        del held[:10]
        assert post(collector.url, reading(seq=2)).status == 201
    finally:
        for s in held:
            s.close()
        collector.proc.send_signal(signal.SIGTERM)
        collector.wait()
