"""Command builders: exact bytes for both dialects, and clear refusals of what the wire cannot carry."""
from __future__ import annotations

import pytest

from espat.proto import commands as c
from espat.proto.dialects import AT1, AT2, by_name
from espat.errors import LocalProtocolError, RemoteProtocolError
from espat.proto.events import Recv
from espat.proto.framing import frame_send
from espat.httpclient import build_request


@pytest.mark.parametrize("command, line", [
    (c.at(), b"AT\r\n"),
    (c.echo(False), b"ATE0\r\n"),
    (c.reset(), b"AT+RST\r\n"),
    (c.version(), b"AT+GMR\r\n"),
    (c.set_mode(1), b"AT+CWMODE_CUR=1\r\n"),
    (c.set_mode(1, AT2), b"AT+CWMODE=1\r\n"),
    (c.set_mode(0, AT2), b"AT+CWMODE=0\r\n"),
    (c.join("HomeNet", "s3cr3t"), b'AT+CWJAP_CUR="HomeNet","s3cr3t"\r\n'),
    (c.join("HomeNet", "s3cr3t", persist=True), b'AT+CWJAP_DEF="HomeNet","s3cr3t"\r\n'),
    (c.join("HomeNet", "s3cr3t", AT2), b'AT+CWJAP="HomeNet","s3cr3t"\r\n'),
    (c.join('a,b"c\\d', 'p"w'), b'AT+CWJAP_CUR="a\\,b\\"c\\\\d","p\\"w"\r\n'),
    (c.query_join(), b"AT+CWJAP_CUR?\r\n"),
    (c.mux(True), b"AT+CIPMUX=1\r\n"),
    (c.start(4, "TCP", "example.com", 80), b'AT+CIPSTART=4,"TCP","example.com",80\r\n'),
    (c.start(None, "tcp", "example.com", 80), b'AT+CIPSTART="TCP","example.com",80\r\n'),
    (c.start(0, "UDP", "10.0.0.1", 5000, local_port=6000, udp_mode=2), b'AT+CIPSTART=0,"UDP","10.0.0.1",5000,6000,2\r\n'),
    (c.start(1, "TCP", "h", 80, keepalive=60), b'AT+CIPSTART=1,"TCP","h",80,60\r\n'),
    (c.send(4, 138), b"AT+CIPSEND=4,138\r\n"),
    (c.send(None, 56), b"AT+CIPSEND=56\r\n"),
    (c.send_passthrough(), b"AT+CIPSEND\r\n"),
    (c.close(5), b"AT+CIPCLOSE=5\r\n"),
    (c.close(None), b"AT+CIPCLOSE\r\n"),
    (c.server(True, 8080), b"AT+CIPSERVER=1,8080\r\n"),
    (c.server(False), b"AT+CIPSERVER=0\r\n"),
    (c.recv_mode(True), b"AT+CIPRECVMODE=1\r\n"),
    (c.recv_data(4, 48), b"AT+CIPRECVDATA=4,48\r\n"),
    (c.recv_len(), b"AT+CIPRECVLEN?\r\n"),
    (c.passthrough(True), b"AT+CIPMODE=1\r\n"),
    (c.uart(9600), b"AT+UART_CUR=9600,8,1,0,0\r\n"),
    (c.uart(9600, persist=True), b"AT+UART_DEF=9600,8,1,0,0\r\n"),
    (c.uart(9600, AT2, persist=True), b"AT+UART_DEF=9600,8,1,0,0\r\n"),
    (c.sysstore(False, AT2), b"AT+SYSSTORE=0\r\n"),
    (c.raw("AT+CIPSTATUS"), b"AT+CIPSTATUS\r\n"),
])
def test_exact_bytes(command, line):
    assert command.line == line


def test_password_never_in_redacted_line():
    cmd = c.join("HomeNet", "s3cr3t")
    assert b"s3cr3t" in cmd.line
    assert b"s3cr3t" not in cmd.redacted()
    assert cmd.redacted() == b'AT+CWJAP_CUR="HomeNet","***"\r\n'


@pytest.mark.parametrize("build, message", [
    (lambda: c.join("Home\nNet", "x"), "SSID contains LF"),
    (lambda: c.join("HomeNet", "pa\rss"), "password contains CR"),
    (lambda: c.join("HomeNet", "a\0"), "password contains NUL"),
    (lambda: c.join("", "x"), "SSID is empty"),
    (lambda: c.join("x" * 33, "x"), "SSID is 33 bytes"),
    (lambda: c.join("x", "p" * 65), "password is 65 bytes"),
    (lambda: c.send(5, 10), "link id 5 is outside 0-4"),
    (lambda: c.send(0, 0), "CIPSEND length 0 is outside 1-2048"),
    (lambda: c.send(0, 2049), "CIPSEND length 2049 is outside 1-2048"),
    (lambda: c.start(0, "TCP", "h", 0), "port 0 is outside 1-65535"),
    (lambda: c.start(0, "TCP", "h", 65536), "port 65536 is outside 1-65535"),
    (lambda: c.start(0, "QUIC", "h", 80), "link type must be TCP, UDP or SSL"),
    (lambda: c.start(0, "TCP", "h", True), "port must be a whole number"),
    (lambda: c.set_mode(0), "Wi-Fi mode 0 is outside 1-3"),
    (lambda: c.sysstore(True, AT1), "only in AT 2.x"),
    (lambda: c.raw("AT\r\nAT+RST"), "one line"),
    (lambda: c.raw("hello"), "not an AT command"),
    (lambda: c.uart(50), "baud rate 50 is outside"),
    (lambda: frame_send(b""), "payload is empty"),
    (lambda: frame_send("text"), "encode text first"),
    (lambda: by_name("3"), "unknown AT dialect"),
])
def test_refusals_are_clear(build, message):
    with pytest.raises((LocalProtocolError, ValueError), match=message):
        build()


def test_framing_counts_bytes_not_characters():
    body = "température: 21,5 °C\r\n"             # 22 characters, 24 bytes in UTF-8
    chunks = frame_send(body.encode("utf-8"), 4)
    assert chunks[0].command.line == b"AT+CIPSEND=4,24\r\n"


def test_framing_splits_at_2048_and_checks_recv():
    chunks = frame_send(bytes(5000), 1)
    assert [len(ch.data) for ch in chunks] == [2048, 2048, 904]
    chunks[2].check_recv(Recv(904))
    with pytest.raises(RemoteProtocolError, match="received 903 bytes of a 904-byte send"):
        chunks[2].check_recv(Recv(903))


def test_http_post_matches_the_golden_request():
    request = build_request("POST", "example.com", "/api/readings", b'{"t":21.5,"h":40}',
                            content_type="application/json")
    assert request == (b"POST /api/readings HTTP/1.1\r\nHost: example.com\r\nContent-Type: application/json\r\n"
                       b"Content-Length: 17\r\nConnection: close\r\n\r\n{\"t\":21.5,\"h\":40}")
    assert len(request) == 138


def test_http_get_matches_the_golden_request():
    request = build_request("GET", "example.com", "/")
    assert request == b"GET / HTTP/1.1\r\nHost: example.com\r\nConnection: close\r\n\r\n"
    assert len(request) == 56


def test_http_host_header_names_a_non_default_port_and_body_bytes_are_counted():
    request = build_request("POST", "sensors.local", "/r", "€".encode(), port=8080)
    assert b"Host: sensors.local:8080\r\n" in request
    assert b"Content-Length: 3\r\n" in request


@pytest.mark.parametrize("kwargs, message", [
    (dict(method="GET", host="h", path="index.html"), "must start with '/'"),
    (dict(method="GET", host="h", path="/", headers=[("X", "a\r\nb")]), "bad HTTP request"),
    (dict(method="GE T", host="h", path="/"), "bad HTTP request"),
    (dict(method="POST", host="h", path="/", body="text"), "encode text first"),
])
def test_http_refusals(kwargs, message):
    with pytest.raises(LocalProtocolError, match=message):
        build_request(**kwargs)


def test_a_join_typed_by_hand_is_redacted_too():
    assert c.raw('AT+CWJAP_CUR="HomeNet","s3cr3t"').redacted() == b'AT+CWJAP_CUR="HomeNet","***"\r\n'
