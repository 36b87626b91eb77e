"""Links as the firmware runs them: DNS through the host map only, five ids, server, UDP, passthrough."""
from __future__ import annotations

import socket
import time

from simtools import GET_REPLY, ready_and_joined


def test_dns_and_unmapped_addresses_fail_as_the_firmware_says(sim_port, exact_server):
    server = exact_server(lambda request: GET_REPLY)
    wire = sim_port(f"network=HomeNet:s3cr3t99&latency_scale=0&host=example.com:80=127.0.0.1:{server.port}")
    ready_and_joined(wire)
    wire.exchange(b'AT+CIPSTART=0,"TCP","unknown.example",80\r\n', b"DNS Fail\r\n\r\nERROR\r\n")
    wire.exchange(b'AT+CIPSTART=0,"TCP","203.0.113.10",80\r\n', b"\r\nERROR\r\n0,CLOSED\r\n")
    wire.exchange(b'AT+CIPSTART=0,"TCP","example.com",8080\r\n', b"\r\nERROR\r\n0,CLOSED\r\n")
    wire.exchange(b'AT+CIPSTART=0,"TCP","example.com",80\r\n', b"0,CONNECT\r\n\r\nOK\r\n")
    wire.exchange(b'AT+CIPSTART=0,"TCP","example.com",80\r\n', b"ALREADY CONNECTED\r\n\r\nERROR\r\n")
    wire.exchange(b"AT+CIPMUX=0\r\n", b"link is builded\r\n\r\nERROR\r\n")
    wire.exchange(b'AT+CIPSTART=5,"TCP","example.com",80\r\n', b"ID ERROR\r\n\r\nERROR\r\n")
    wire.exchange(b'AT+CIPSTART="TCP","example.com",80\r\n', b"MUX=1\r\n\r\nERROR\r\n")
    wire.exchange(b"AT+CIPCLOSE=0\r\n", b"0,CLOSED\r\n\r\nOK\r\n")
    wire.exchange(b"AT+CIPCLOSE=0\r\n", b"UNLINK\r\n\r\nERROR\r\n")


def test_five_links_at_once_and_status(sim_port, exact_server):
    server = exact_server(lambda request: GET_REPLY)
    wire = sim_port(f"network=HomeNet:s3cr3t99&latency_scale=0&host=example.com=127.0.0.1:{server.port}")
    ready_and_joined(wire)
    for i in range(5):
        wire.exchange(b'AT+CIPSTART=%d,"TCP","example.com",80\r\n' % i, b"%d,CONNECT\r\n\r\nOK\r\n" % i)
    wire.send(b"AT+CIPSTATUS\r\n")
    status = wire.read_until(b"OK\r\n")
    assert status.startswith(b"STATUS:3\r\n")
    assert status.count(b'+CIPSTATUS:') == 5
    assert b'+CIPSTATUS:4,"TCP","127.0.0.1",80,' in status
    wire.exchange(b"AT+CIPCLOSE=5\r\n", b"0,CLOSED\r\n1,CLOSED\r\n2,CLOSED\r\n3,CLOSED\r\n4,CLOSED\r\n\r\nOK\r\n")
    wire.exchange(b"AT+CIPSTATUS\r\n", b"STATUS:4\r\n\r\nOK\r\n")


def _free_port() -> int:
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def test_server_accepts_and_cipsto_closes(sim_port):
    wire = sim_port("network=HomeNet:s3cr3t99&latency_scale=0")
    ready_and_joined(wire)
    port = _free_port()
    wire.exchange(b"AT+CIPSERVER=1,%d\r\n" % port, b"\r\nOK\r\n")
    wire.exchange(b"AT+CIPSTO=1\r\n", b"\r\nOK\r\n")
    client = socket.create_connection(("127.0.0.1", port), timeout=5)
    try:
        wire.expect(b"0,CONNECT\r\n")
        client.sendall(b"GET / HTTP/1.1\r\n\r\n")
        wire.expect(b"\r\n+IPD,0,18:GET / HTTP/1.1\r\n\r\n")
        wire.exchange(b"AT+CIPSEND=0,5\r\n", b"\r\nOK\r\n> ")
        wire.exchange(b"hello", b"\r\nRecv 5 bytes\r\n\r\nSEND OK\r\n")
        assert client.recv(5) == b"hello"
        wire.expect(b"0,CLOSED\r\n", timeout=4)             # idle past CIPSTO
        assert client.recv(5) == b""
    finally:
        client.close()
    wire.exchange(b"AT+CIPSERVER=0\r\n", b"\r\nOK\r\n")


def test_dinfo_adds_the_remote_address(sim_port, exact_server):
    server = exact_server(lambda request: b"hey")
    wire = sim_port(f"network=HomeNet:s3cr3t99&latency_scale=0&host=example.com=127.0.0.1:{server.port}")
    ready_and_joined(wire)
    wire.exchange(b"AT+CIPDINFO=1\r\n", b"\r\nOK\r\n")
    wire.exchange(b'AT+CIPSTART=2,"TCP","example.com",80\r\n', b"2,CONNECT\r\n\r\nOK\r\n")
    wire.exchange(b"AT+CIPSEND=2,8\r\n", b"\r\nOK\r\n> ")
    wire.exchange(b"ping\r\n\r\n", b"\r\nRecv 8 bytes\r\n\r\nSEND OK\r\n")
    wire.expect(b"\r\n+IPD,2,3,127.0.0.1,80:hey2,CLOSED\r\n")     # the port asked for, the address DNS gave


def test_udp_link(sim_port):
    peer = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    peer.bind(("127.0.0.1", 0))
    peer.settimeout(5)
    port = peer.getsockname()[1]
    try:
        wire = sim_port(f"network=HomeNet:s3cr3t99&latency_scale=0&host=time.local=127.0.0.1:{port}")
        ready_and_joined(wire)
        wire.exchange(b'AT+CIPSTART=3,"UDP","time.local",123\r\n', b"3,CONNECT\r\n\r\nOK\r\n")
        wire.exchange(b"AT+CIPSEND=3,4\r\n", b"\r\nOK\r\n> ")
        wire.exchange(b"tick", b"\r\nRecv 4 bytes\r\n\r\nSEND OK\r\n")
        data, addr = peer.recvfrom(100)
        assert data == b"tick"
        peer.sendto(b"tock", addr)
        wire.expect(b"\r\n+IPD,3,4:tock")
    finally:
        peer.close()


def test_passthrough_and_plus_plus_plus(sim_port):
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(1)
    listener.settimeout(5)
    try:
        wire = sim_port(f"network=HomeNet:s3cr3t99&latency_scale=0&host=echo.local=127.0.0.1:"
                        f"{listener.getsockname()[1]}")
        ready_and_joined(wire, mux=False)
        wire.exchange(b"AT+CIPMODE=1\r\n", b"\r\nOK\r\n")
        wire.exchange(b'AT+CIPSTART="TCP","echo.local",7\r\n', b"CONNECT\r\n\r\nOK\r\n")
        conn, _ = listener.accept()
        conn.settimeout(5)
        wire.exchange(b"AT+CIPSEND\r\n", b"\r\nOK\r\n\r\n>")
        wire.send(b"raw bytes, no framing\r\n")
        assert conn.recv(100) == b"raw bytes, no framing\r\n"
        conn.sendall(b"straight back")
        wire.expect(b"straight back")
        time.sleep(0.1)
        wire.send(b"+++")
        time.sleep(0.1)
        wire.exchange(b"AT+CIPMODE=0\r\n", b"\r\nOK\r\n")
        wire.send(b"AT+CIPSTATUS\r\n")
        assert wire.read_until(b"OK\r\n").startswith(b"STATUS:3\r\n")     # the link stays open after +++
        conn.close()
    finally:
        listener.close()
