"""Every fault kind yields what the real module would show, and nothing hangs (every wait is bounded)."""
from __future__ import annotations

import time

import pytest

from esp8266sim.faults import FaultError, parse_fault
from simtools import GET_REPLY, ready_and_joined

GET = b"GET / HTTP/1.1\r\nHost: example.com\r\nConnection: close\r\n\r\n"


def _open_and_send(wire, payload=GET, link=0):
    wire.exchange(b'AT+CIPSTART=%d,"TCP","example.com",80\r\n' % link, b"%d,CONNECT\r\n\r\nOK\r\n" % link)
    wire.exchange(b"AT+CIPSEND=%d,%d\r\n" % (link, len(payload)), b"\r\nOK\r\n> ")
    wire.send(payload)


@pytest.fixture
def server(exact_server):
    return exact_server(lambda request: GET_REPLY)


def _query(server, *faults):
    return "network=HomeNet:s3cr3t99&latency_scale=0&host=example.com=127.0.0.1:%d&" % server.port + \
        "&".join("fault=" + f for f in faults)


def test_send_fail_then_closed(sim_port, server):
    wire = sim_port(_query(server, "send-fail@send=1"))
    ready_and_joined(wire)
    _open_and_send(wire)
    wire.expect(b"\r\nRecv 56 bytes\r\nSEND FAIL\r\n0,CLOSED\r\n")      # 1.7: no CR LF before SEND FAIL
    assert server.requests == []


def test_remote_close_after_send(sim_port, exact_server):
    silent = exact_server(lambda request: b"")         # reads, answers nothing, closes
    wire = sim_port(_query(silent, "remote-close@send=1"))
    ready_and_joined(wire)
    _open_and_send(wire)
    wire.expect(b"\r\nRecv 56 bytes\r\n\r\nSEND OK\r\n0,CLOSED\r\n")
    assert wire.quiet() == b""


def test_wifi_lost_closes_links_and_rejoin_works(sim_port, server):
    wire = sim_port(_query(server, "wifi-lost@send=1"))
    ready_and_joined(wire)
    wire.exchange(b'AT+CIPSTART=1,"TCP","example.com",80\r\n', b"1,CONNECT\r\n\r\nOK\r\n")
    wire.exchange(b'AT+CIPSTART=0,"TCP","example.com",80\r\n', b"0,CONNECT\r\n\r\nOK\r\n")
    wire.exchange(b"AT+CIPSEND=0,56\r\n", b"\r\nOK\r\n> ")
    wire.send(GET)
    got = wire.read_until(b"1,CLOSED\r\n")
    assert b"WIFI DISCONNECT\r\n" in got and b"SEND OK" in got
    wire.exchange(b'AT+CIPSTART=0,"TCP","example.com",80\r\n', b"no ip\r\n\r\nERROR\r\n")
    wire.exchange(b'AT+CWJAP_CUR="HomeNet","s3cr3t99"\r\n', b"WIFI CONNECTED\r\nWIFI GOT IP\r\n\r\nOK\r\n")


def test_wifi_lost_at_a_moment(sim_port, server):
    wire = sim_port(_query(server, "wifi-lost@t=0.3"))
    ready_and_joined(wire)
    wire.expect(b"WIFI DISCONNECT\r\n", timeout=3)


def test_busy_storm(sim_port, server):
    wire = sim_port(_query(server, "busy:3@cmd=2"))
    wire.expect(b"\r\nready\r\n")
    wire.exchange(b"ATE0\r\n", b"ATE0\r\r\n\r\nOK\r\n")
    for _ in range(3):
        wire.exchange(b"AT\r\n", b"\r\nbusy p...\r\n")
    wire.exchange(b"AT\r\n", b"\r\nOK\r\n")


def test_slow_answer(sim_port, server):
    wire = sim_port(_query(server, "slow:0.5@cmd=2"))
    wire.expect(b"\r\nready\r\n")
    wire.exchange(b"ATE0\r\n", b"ATE0\r\r\n\r\nOK\r\n")
    wire.send(b"AT\r\n")
    assert wire.quiet(0.2) == b""
    wire.expect(b"\r\nOK\r\n", timeout=3)


def test_reset_in_mid_send(sim_port, server):
    wire = sim_port(_query(server, "reset@send=1"))
    ready_and_joined(wire)
    _open_and_send(wire)
    got = wire.read_until(b"\r\nready\r\n", timeout=3)
    assert b"SEND OK" not in got
    wire.exchange(b"AT\r\n", b"AT\r\r\n\r\nOK\r\n")         # echo is back on after the reboot
    wire.exchange(b"AT+CIPMUX?\r\n", b"AT+CIPMUX?\r\r\n+CIPMUX:0\r\n\r\nOK\r\n")
    assert server.requests == []


def test_boot_garbage_before_ready(sim_port):
    wire = sim_port("latency_scale=0&fault=boot-garbage&seed=7")
    got = wire.read_until(b"\r\nready\r\n")
    assert len(got) > len(b"\r\nready\r\n") + 20
    wire.exchange(b"AT\r\n", b"AT\r\r\n\r\nOK\r\n")


@pytest.mark.parametrize("kind", ["drop:0.2", "corrupt:0.2"])
def test_byte_faults_are_deterministic_with_a_seed(kind):
    from simtools import open_sim
    results = []
    for _ in range(2):
        port = open_sim(f"latency_scale=0&seed=3&fault={kind}")
        try:
            port.write(b"AT+GMR\r\n")
            time.sleep(0.3)
            results.append(port.read(port.in_waiting))
        finally:
            port.close()
    clean = b"\r\nready\r\nAT+GMR\r\r\n" + __import__("espat").AT1.gmr
    assert results[0] == results[1]
    assert results[0] != clean
    if kind.startswith("drop"):
        assert len(results[0]) < len(clean)
    else:
        assert len(results[0]) == len(clean)


def test_surplus_payload_bytes_get_busy_s(sim_port, exact_server):
    slow = exact_server(lambda request: b"")
    wire = sim_port(f"network=HomeNet:s3cr3t99&latency_scale=1&host=example.com=127.0.0.1:{slow.port}")
    wire.expect(b"\r\nready\r\n")
    wire.exchange(b"ATE0\r\n", b"ATE0\r\r\n\r\nOK\r\n")
    wire.send(b'AT+CWJAP_CUR="HomeNet","s3cr3t99"\r\n')
    wire.read_until(b"OK\r\n", timeout=5)
    wire.exchange(b'AT+CIPSTART="TCP","example.com",80\r\n', b"CONNECT\r\n\r\nOK\r\n", timeout=5)
    wire.exchange(b"AT+CIPSEND=5\r\n", b"\r\nOK\r\n> ")
    wire.send(b"hello, and more")
    wire.expect(b"\r\nRecv 5 bytes\r\n\r\nbusy s...\r\n\r\nSEND OK\r\n")


@pytest.mark.parametrize("spec, message", [
    ("drop", "needs a value"),
    ("drop:x", "is not a float"),
    ("send-fail", "takes the trigger @send=N"),
    ("busy:2@t=1", "takes the trigger @cmd=N"),
    ("reset@send=0", "N from 1"),
    ("wifi-lost:3", "takes no value"),
])
def test_bad_fault_specs(spec, message):
    with pytest.raises(FaultError, match=message):
        parse_fault(spec)
