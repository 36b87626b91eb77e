"""The golden exchanges of the protocol notes (section 10), byte for byte, for both dialects."""
from __future__ import annotations

import pytest

from espat.dialects import by_name
from simtools import GET_REPLY, POST_REPLY

POST = (b"POST /api/readings HTTP/1.1\r\nHost: example.com\r\nContent-Type: application/json\r\n"
        b"Content-Length: 17\r\nConnection: close\r\n\r\n{\"t\":21.5,\"h\":40}")
GET = b"GET / HTTP/1.1\r\nHost: example.com\r\nConnection: close\r\n\r\n"


def _join(wire, dialect: str) -> None:
    wire.expect(b"\r\nready\r\n")
    wire.exchange(b"AT\r\n", b"AT\r\r\n\r\nOK\r\n")
    wire.exchange(b"ATE0\r\n", b"ATE0\r\r\n\r\nOK\r\n")
    suffix = b"_CUR" if dialect == "1" else b""
    wire.exchange(b"AT+CWMODE%s=1\r\n" % suffix, b"\r\nOK\r\n")
    wire.exchange(b'AT+CWJAP%s="HomeNet","s3cr3t99"\r\n' % suffix, b"WIFI CONNECTED\r\nWIFI GOT IP\r\n\r\nOK\r\n")


@pytest.mark.parametrize("dialect, prompt", [("1", b"\r\nOK\r\n> "), ("2", b"\r\nOK\r\n\r\n>")])
def test_post_with_cipmux_1(sim_port, exact_server, dialect, prompt):
    server = exact_server(lambda request: POST_REPLY)
    assert len(POST) == 138 and len(POST_REPLY) == 106
    wire = sim_port(f"network=HomeNet:s3cr3t99&host=example.com=127.0.0.1:{server.port}&latency_scale=0"
                    f"&dialect={dialect}")
    _join(wire, dialect)
    wire.exchange(b"AT+CIPMUX=1\r\n", b"\r\nOK\r\n")
    wire.exchange(b'AT+CIPSTART=4,"TCP","example.com",80\r\n', b"4,CONNECT\r\n\r\nOK\r\n")
    wire.exchange(b"AT+CIPSEND=4,138\r\n", prompt)
    wire.exchange(POST, b"\r\nRecv 138 bytes\r\n\r\nSEND OK\r\n")
    wire.expect(b"\r\n+IPD,4,106:" + POST_REPLY + b"4,CLOSED\r\n")
    assert server.requests == [POST]
    assert wire.quiet() == b""


def test_get_with_cipmux_0(sim_port, exact_server):
    server = exact_server(lambda request: GET_REPLY)
    wire = sim_port(f"network=HomeNet:s3cr3t99&host=example.com:80=127.0.0.1:{server.port}&latency_scale=0")
    _join(wire, "1")
    wire.exchange(b"AT+CIPMUX=0\r\n", b"\r\nOK\r\n")
    wire.exchange(b'AT+CIPSTART="TCP","example.com",80\r\n', b"CONNECT\r\n\r\nOK\r\n")
    wire.exchange(b"AT+CIPSEND=56\r\n", b"\r\nOK\r\n> ")
    wire.exchange(GET, b"\r\nRecv 56 bytes\r\n\r\nSEND OK\r\n")
    wire.expect(b"\r\n+IPD,89:" + GET_REPLY + b"CLOSED\r\n")


@pytest.mark.parametrize("dialect, reads", [
    ("1", [b"\r\n+CIPRECVDATA,48:%s\r\nOK\r\n", b"\r\n+CIPRECVDATA,48:%s\r\nOK\r\n", b"\r\n+CIPRECVDATA,10:%s\r\nOK\r\n"]),
    ("2", [b"+CIPRECVDATA:48,%s\r\nOK\r\n", b"+CIPRECVDATA:48,%s\r\nOK\r\n", b"+CIPRECVDATA:10,%s\r\nOK\r\n"]),
])
def test_passive_receive(sim_port, exact_server, dialect, reads):
    server = exact_server(lambda request: POST_REPLY)
    wire = sim_port(f"network=HomeNet:s3cr3t99&host=example.com=127.0.0.1:{server.port}&latency_scale=0"
                    f"&dialect={dialect}")
    _join(wire, dialect)
    wire.exchange(b"AT+CIPMUX=1\r\n", b"\r\nOK\r\n")
    wire.exchange(b"AT+CIPRECVMODE=1\r\n", b"\r\nOK\r\n")
    wire.exchange(b'AT+CIPSTART=4,"TCP","example.com",80\r\n', b"4,CONNECT\r\n\r\nOK\r\n")
    wire.exchange(b"AT+CIPSEND=4,138\r\n", by_name(dialect).send_prompt)
    wire.send(POST)
    got = wire.read_until(b"\r\n+IPD,4,106\r\n")
    assert got.startswith(b"\r\nRecv 138 bytes\r\n\r\nSEND OK\r\n")
    if dialect == "1":
        wire.expect(b"4,CLOSED\r\n")       # 1.x reports the close while data still waits
    pieces = [POST_REPLY[:48], POST_REPLY[48:96], POST_REPLY[96:]]
    for template, piece in zip(reads, pieces):
        wire.exchange(b"AT+CIPRECVDATA=4,48\r\n", template % piece)
    if dialect == "2":
        wire.expect(b"4,CLOSED\r\n")       # 2.x holds it back until the data was read


def test_query_answers_1x(sim_port):
    wire = sim_port("network=HomeNet:s3cr3t99&latency_scale=0")
    _join(wire, "1")
    wire.exchange(b"AT+CWMODE_CUR?\r\n", b"+CWMODE_CUR:1\r\n\r\nOK\r\n")
    wire.exchange(b"AT+CIFSR\r\n", b'+CIFSR:STAIP,"192.168.1.23"\r\n+CIFSR:STAMAC,"5c:cf:7f:a1:b2:c3"\r\n\r\nOK\r\n')
    wire.exchange(b"AT+CIPSTATUS\r\n", b"STATUS:2\r\n\r\nOK\r\n")
    wire.exchange(b"AT+UART_CUR?\r\n", b"+UART_CUR:115200,8,1,0,0\r\n\r\nOK\r\n")
    wire.exchange(b"AT+CIPRECVLEN?\r\n", b"+CIPRECVLEN:0,0,0,0,0\r\n\r\nOK\r\n")
    wire.send(b"AT+CWJAP_CUR?\r\n")
    assert wire.read_until(b"OK\r\n").startswith(b'+CWJAP_CUR:"HomeNet","')
    wire.exchange(b"AT+CWQAP\r\n", b"\r\nOK\r\nWIFI DISCONNECT\r\n")
    wire.exchange(b"AT+CWJAP_CUR?\r\n", b"No AP\r\n\r\nOK\r\n")


@pytest.mark.parametrize("dialect, gmr_end", [("1", b"Bin version(Wroom 02):1.7.4\r\nOK\r\n"),
                                               ("2", b")\r\n\r\nOK\r\n")])
def test_gmr(sim_port, dialect, gmr_end):
    wire = sim_port(f"latency_scale=0&dialect={dialect}")
    wire.expect(b"\r\nready\r\n")
    wire.exchange(b"ATE0\r\n", b"ATE0\r\r\n\r\nOK\r\n")
    wire.send(b"AT+GMR\r\n")
    got = wire.read_until(b"OK\r\n")
    assert got.startswith(b"AT version:%s." % dialect.encode())
    assert got.endswith(gmr_end)


@pytest.mark.parametrize("dialect, line, answer", [
    ("1", b"AT+FOO\r\n", b"\r\nERROR\r\n"),
    ("1", b"AT+CWMODE=1\r\n", b"\r\nOK\r\n"),                     # deprecated but accepted by 1.x
    ("2", b"AT+CWMODE_CUR=1\r\n", b"\r\nERROR\r\n"),              # 2.x has no _CUR forms
    ("1", b"AT+SYSSTORE=0\r\n", b"\r\nERROR\r\n"),                # 2.x only
    ("1", b"AT+CIPSEND=0,5\r\n", b"MUX=0\r\n\r\nERROR\r\n"),      # a link id without CIPMUX=1
    ("1", b"AT+CIPSEND=5\r\n", b"link is not valid\r\n\r\nERROR\r\n"),
    ("1", b'AT+CIPSTART="TCP","example.com",80\r\n', b"no ip\r\n\r\nERROR\r\n"),
    ("1", b"AT+CIPSERVER=1,8080\r\n", b"MUX=0\r\n\r\nERROR\r\n"),
    ("1", b"AT+CIPCLOSE\r\n", b"UNLINK\r\n\r\nERROR\r\n"),
    ("1", b"AT+CWMODE_CUR=4\r\n", b"\r\nERROR\r\n"),
    ("1", b"AT+CWMODE_CUR=1,\r\n", b"\r\nERROR\r\n"),
])
def test_refusals(sim_port, dialect, line, answer):
    wire = sim_port(f"latency_scale=0&dialect={dialect}")
    wire.expect(b"\r\nready\r\n")
    wire.exchange(b"ATE0\r\n", b"ATE0\r\r\n\r\nOK\r\n")
    wire.exchange(line, answer)


def test_2x_error_codes_with_syslog(sim_port):
    wire = sim_port("latency_scale=0&dialect=2")
    wire.expect(b"\r\nready\r\n")
    wire.exchange(b"ATE0\r\n", b"ATE0\r\r\n\r\nOK\r\n")
    wire.exchange(b"AT+SYSLOG=1\r\n", b"\r\nOK\r\n")
    wire.exchange(b"AT+FOO\r\n", b"ERR CODE:0x01090000\r\n\r\nERROR\r\n")


@pytest.mark.parametrize("dialect, final", [("1", b"\r\nFAIL\r\n"), ("2", b"\r\nERROR\r\n")])
def test_join_failures(sim_port, dialect, final):
    wire = sim_port(f"network=HomeNet:s3cr3t99&latency_scale=0&dialect={dialect}")
    wire.expect(b"\r\nready\r\n")
    wire.exchange(b"ATE0\r\n", b"ATE0\r\r\n\r\nOK\r\n")
    cmd = b"CWJAP_CUR" if dialect == "1" else b"CWJAP"
    wire.exchange(b'AT+%s="HomeNet","wrong-password"\r\n' % cmd, b"+CWJAP:2\r\n" + final)
    wire.exchange(b'AT+%s="Elsewhere","s3cr3t99"\r\n' % cmd, b"+CWJAP:3\r\n" + final)


def test_busy_while_joining(sim_port):
    wire = sim_port("network=HomeNet:s3cr3t99&latency_scale=0.2")
    wire.expect(b"\r\nready\r\n")
    wire.exchange(b"ATE0\r\n", b"ATE0\r\r\n\r\nOK\r\n")
    wire.send(b'AT+CWJAP_CUR="HomeNet","s3cr3t99"\r\n')
    wire.exchange(b"AT\r\n", b"\r\nbusy p...\r\n")
    wire.expect(b"WIFI CONNECTED\r\nWIFI GOT IP\r\n\r\nOK\r\n", timeout=5)
