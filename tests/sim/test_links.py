"""Links as the firmware runs them: DNS through the host map only, five ids, server, UDP, passthrough."""
from __future__ import annotations

import contextlib
import datetime
import socket
import ssl
import threading
import time

import pytest
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


@contextlib.contextmanager
def udp_peer():
    """A UDP socket on loopback for the fake's links to talk to, closed after."""
    peer = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    peer.bind(("127.0.0.1", 0))
    peer.settimeout(5)
    try:
        yield peer
    finally:
        peer.close()


def udp_sim(sim_port, peer, dialect="1", recvmode=False):
    """A joined fake whose time.local is `peer`, with a UDP link 0 from local port 2390 that has sent one byte;
    the address the peer got it from."""
    wire = sim_port(f"network=HomeNet:s3cr3t99&latency_scale=0&dialect={dialect}"
                    f"&host=time.local=127.0.0.1:{peer.getsockname()[1]}")
    ready_and_joined(wire, dialect=dialect)
    if recvmode:
        wire.exchange(b"AT+CIPRECVMODE=1\r\n", b"\r\nOK\r\n")
    wire.exchange(b'AT+CIPSTART=0,"UDP","time.local",123,2390,0\r\n', b"0,CONNECT\r\n\r\nOK\r\n")
    wire.exchange(b"AT+CIPSEND=0,1\r\n", b"\r\nOK\r\n> " if dialect == "1" else b"\r\nOK\r\n\r\n>")
    wire.exchange(b"t", b"\r\nRecv 1 bytes\r\n\r\nSEND OK\r\n")
    data, addr = peer.recvfrom(100)
    assert data == b"t"
    return wire, addr


def test_udp_link(sim_port):
    with udp_peer() as peer:
        wire, addr = udp_sim(sim_port, peer)
        peer.sendto(b"tock", addr)
        wire.expect(b"\r\n+IPD,0,4:tock")


@pytest.mark.parametrize("dialect", ["1", "2"])
def test_udp_in_passive_mode_is_held_on_2x_only(sim_port, dialect):
    """Passive receive holds UDP datagrams on 2.x, each read whole (a shorter read loses the datagram's rest); 1.x
    holds TCP only, so a datagram comes as +IPD with its bytes whatever CIPRECVMODE says [notes 5.2]."""
    with udp_peer() as peer:
        wire, addr = udp_sim(sim_port, peer, dialect, recvmode=True)
        peer.sendto(b"tock", addr)
        if dialect == "1":
            wire.expect(b"\r\n+IPD,0,4:tock")
            return
        wire.expect(b"\r\n+IPD,0,4\r\n")
        peer.sendto(b"second", addr)
        heard = b""
        deadline = time.monotonic() + 5
        while b"+CIPRECVLEN:10,-1,-1,-1,-1" not in heard and time.monotonic() < deadline:
            wire.send(b"AT+CIPRECVLEN?\r\n")         # until the second datagram is in
            heard += wire.read_until(b"OK\r\n")
        assert b"+CIPRECVLEN:10,-1,-1,-1,-1" in heard and b"+IPD" not in heard, heard    # no notice for it
        wire.exchange(b"AT+CIPRECVDATA=0,2\r\n", b"+CIPRECVDATA:2,to\r\nOK\r\n")
        wire.exchange(b"AT+CIPRECVDATA=0,48\r\n", b"+CIPRECVDATA:6,second\r\nOK\r\n")
        wire.exchange(b"AT+CIPRECVDATA=0,48\r\n", b"\r\nERROR\r\n")


def test_two_modules_send_from_the_same_local_port(sim_port):
    """Each module sends from its own address: two fakes on this machine that both ask for local port 2390 (two
    boards running NTP) both get their link, and each says it sends from 2390; the loopback socket behind each is
    the machine's business (the second CIPSTART was refused ERROR while the first held the port)."""
    with udp_peer() as peer:
        senders = set()
        for _ in range(2):
            wire, addr = udp_sim(sim_port, peer)
            senders.add(addr)
            wire.send(b"AT+CIPSTATUS\r\n")
            assert b'+CIPSTATUS:0,"UDP","127.0.0.1",123,2390,0\r\n' in wire.read_until(b"OK\r\n")
        assert len(senders) == 2


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


# --- time on the network path (asserted in the fake's own clock: its transcript, never the test's) ---------------

RTT = 0.2
TIMED = "latency_scale=1&latency_join=0&latency_boot=0&latency_dns=0&latency_connect=0&latency_send=0"


def _transcript(path) -> list:
    """(seconds, direction, text) per line of a --log transcript."""
    rows = []
    for line in path.read_text().splitlines():
        stamp, _, rest = line.partition("] ")
        direction, _, text = rest.partition(" ")
        rows.append((float(stamp.strip("[ ")), direction, text))
    return rows


def _first(rows, direction: str, needle: str) -> float:
    return next(t for t, d, text in rows if d == direction and needle in text)


def test_reply_reaches_the_module_one_rtt_after_the_request_and_after_send_ok(sim_port, exact_server, tmp_path):
    server = exact_server(lambda request: GET_REPLY)          # answers at once: only the path takes time
    log = tmp_path / "wire.log"
    wire = sim_port(f"network=HomeNet:s3cr3t99&{TIMED}&latency_rtt={RTT}&host=example.com=127.0.0.1:{server.port}"
                    f"&log={log}")
    ready_and_joined(wire)
    wire.exchange(b'AT+CIPSTART=0,"TCP","example.com",80\r\n', b"0,CONNECT\r\n\r\nOK\r\n")
    request = b"GET / HTTP/1.1\r\nHost: example.com\r\n\r\n"
    wire.exchange(b"AT+CIPSEND=0,%d\r\n" % len(request), b"\r\nOK\r\n> ")
    wire.send(request)
    wire.expect(b"\r\nRecv 37 bytes\r\n\r\nSEND OK\r\n\r\n+IPD,0,89:" + GET_REPLY + b"0,CLOSED\r\n")
    rows = _transcript(log)
    start = _first(rows, "->", "AT+CIPSTART")
    connected = _first(rows, "<-", "0,CONNECT")
    sent = _first(rows, "->", "GET / HTTP/1.1")
    send_ok = _first(rows, "<-", "SEND OK")
    reply = _first(rows, "<-", "+IPD,0,89")
    closed = _first(rows, "<-", "0,CLOSED")
    slack = 0.002                   # the transcript's stamps are taken a little before and after the events
    assert connected - start >= RTT - slack             # SYN, SYN-ACK
    assert send_ok - sent >= RTT - slack                # the ACK's round trip
    assert reply - sent >= RTT - slack                  # never sooner than one round trip
    assert send_ok <= reply <= closed


def test_send_ok_always_comes_before_the_reply_it_caused(sim_port, exact_server):
    server = exact_server(lambda request: b"pong")
    wire = sim_port(f"network=HomeNet:s3cr3t99&{TIMED}&latency_rtt=0.01&host=echo.local=127.0.0.1:{server.port}")
    ready_and_joined(wire)
    for link in range(5):
        wire.exchange(b'AT+CIPSTART=%d,"TCP","echo.local",7\r\n' % link, b"%d,CONNECT\r\n\r\nOK\r\n" % link)
    for link in range(5):
        wire.exchange(b"AT+CIPSEND=%d,8\r\n" % link, b"\r\nOK\r\n> ")
        wire.exchange(b"ping\r\n\r\n", b"\r\nRecv 8 bytes\r\n\r\nSEND OK\r\n\r\n+IPD,%d,4:pong%d,CLOSED\r\n"
                      % (link, link))
    assert len(server.requests) == 5


# --- the module's receive window: a host's slow UART holds the server back ----------------------------------------

WINDOW = 5760                   # the ESP8266's per-socket receive window (links.WINDOW), from the firmware's docs
BIG_BODY = bytes(i % 251 for i in range(200_000))
BIG_REPLY = b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\nConnection: close\r\n\r\n" % len(BIG_BODY) + BIG_BODY


def _ipd_payload(stream: bytes, head: bytes) -> bytes:
    """The data of every `+IPD` block in `stream`, in order (what lies between blocks is not data)."""
    data, at = b"", 0
    while True:
        at = stream.find(head, at)
        if at < 0:
            return data
        colon = stream.index(b":", at)
        size = int(stream[at + len(head):colon])
        data += stream[colon + 1:colon + 1 + size]
        at = colon + 1 + size


@pytest.mark.parametrize("mux", [True, False])
def test_cipclose_mid_body_is_answered_after_at_most_a_window_of_data(sim_port, exact_server, mux):
    """A host stops reading a 200 KB body at 115200 baud and closes the link: a real module has only its receive
    window of that body left to send (TCP holds the server back), so CLOSED/OK follow within a few KB, not after
    the ~18 s the whole rest of the body would take. Counted in bytes, never in time."""
    server = exact_server(lambda request: BIG_REPLY)
    wire = sim_port(f"network=HomeNet:s3cr3t99&latency_scale=0&baud=115200&host=example.com=127.0.0.1:{server.port}")
    ready_and_joined(wire, mux=mux)
    link = b"0," if mux else b""
    wire.exchange(b'AT+CIPSTART=%s"TCP","example.com",80\r\n' % link, b"%sCONNECT\r\n\r\nOK\r\n" % link)
    request = b"GET /big HTTP/1.1\r\nHost: example.com\r\n\r\n"
    wire.exchange(b"AT+CIPSEND=%s%d\r\n" % (link, len(request)), b"\r\nOK\r\n> ")
    wire.send(request)
    wire.expect(b"\r\nRecv %d bytes\r\n\r\nSEND OK\r\n" % len(request))
    before = wire.read_exactly(3000, timeout=10)                # a little of the answer
    before += wire.quiet(0)                                     # and whatever else is already here
    wire.send(b"AT+CIPCLOSE%s\r\n" % (b"=0" if mux else b""))
    after = wire.read_until(b"%sCLOSED\r\n\r\nOK\r\n" % link, timeout=60)
    slack = 4096                # +IPD heads, the echo, and what crosses while the test itself is slow to write
    assert len(after) <= WINDOW + slack, f"{len(after)} bytes came between AT+CIPCLOSE and its answer"
    head = b"+IPD,0," if mux else b"+IPD,"
    got = _ipd_payload(before + after, head)
    assert len(got) > 3000 - 100 and BIG_REPLY.startswith(got)     # nothing lost or reordered on the way
    wire.exchange(b"AT\r\n", b"\r\nOK\r\n")


# --- "SSL" links: real TLS to a loopback server, never plain TCP ------------------------------------------------


class TlsServer:
    """A loopback TLS server with a self-signed certificate made here (the `cryptography` package): reads one
    HTTP request, answers `reply` and closes; remembers the SNI name each client sent."""

    def __init__(self, tmp_path, reply: bytes) -> None:
        cert, key = _self_signed(tmp_path, "secure.example")
        self.context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        self.context.load_cert_chain(cert, key)
        self.names: list = []
        self.context.sni_callback = lambda sock, name, ctx: self.names.append(name)
        self.requests: list = []
        self.errors: list = []
        self.reply = reply
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(4)
        self.port = self.sock.getsockname()[1]
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self) -> None:
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            conn.settimeout(10)
            try:
                with self.context.wrap_socket(conn, server_side=True) as tls:
                    data = b""
                    while b"\r\n\r\n" not in data:
                        chunk = tls.recv(4096)
                        if not chunk:
                            break
                        data += chunk
                    self.requests.append(data)
                    tls.sendall(self.reply)
            except (ssl.SSLError, OSError) as exc:
                self.errors.append(exc)
                conn.close()

    def close(self) -> None:
        self.sock.close()


def _self_signed(tmp_path, name: str):
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    now = datetime.datetime.now(datetime.timezone.utc)
    cert = (x509.CertificateBuilder().subject_name(subject).issuer_name(subject).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(now - datetime.timedelta(days=1))
            .not_valid_after(now + datetime.timedelta(days=1))
            .add_extension(x509.SubjectAlternativeName([x509.DNSName(name)]), critical=False)
            .sign(key, hashes.SHA256()))
    cert_path, key_path = tmp_path / f"{name}.pem", tmp_path / f"{name}.key"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    return str(cert_path), str(key_path)


def test_ssl_link_speaks_tls_without_checking_the_certificate(sim_port, tmp_path):
    reply = b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok"
    server = TlsServer(tmp_path, reply)
    try:
        wire = sim_port(f"network=HomeNet:s3cr3t99&latency_scale=0&host=secure.example=127.0.0.1:{server.port}")
        ready_and_joined(wire)
        wire.exchange(b"AT+CIPSSLSIZE=4096\r\n", b"\r\nOK\r\n")
        wire.exchange(b'AT+CIPSTART=0,"SSL","secure.example",443\r\n', b"0,CONNECT\r\n\r\nOK\r\n")
        request = b"GET / HTTP/1.1\r\nHost: secure.example\r\n\r\n"
        wire.exchange(b"AT+CIPSEND=0,%d\r\n" % len(request), b"\r\nOK\r\n> ")
        wire.exchange(request, b"\r\nRecv %d bytes\r\n\r\nSEND OK\r\n" % len(request))
        wire.expect(b"\r\n+IPD,0,%d:%s0,CLOSED\r\n" % (len(reply), reply))
        assert server.requests == [request]         # decrypted by the server: the bytes went through TLS
        assert server.names == ["secure.example"]   # the name given to CIPSTART, as SNI
    finally:
        server.close()


@pytest.mark.parametrize("dialect", ["1", "2"])
def test_ssl_in_passive_mode_is_held_on_2x_only(sim_port, tmp_path, dialect):
    """2.x's passive receive holds an SSL link's data as a TCP link's; 1.x sends it as +IPD with its bytes [5.2]."""
    reply = b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok"
    server = TlsServer(tmp_path, reply)
    try:
        wire = sim_port(f"network=HomeNet:s3cr3t99&latency_scale=0&dialect={dialect}"
                        f"&host=secure.example=127.0.0.1:{server.port}")
        ready_and_joined(wire, dialect=dialect)
        wire.exchange(b"AT+CIPRECVMODE=1\r\n", b"\r\nOK\r\n")
        wire.exchange(b'AT+CIPSTART=0,"SSL","secure.example",443\r\n', b"0,CONNECT\r\n\r\nOK\r\n")
        request = b"GET / HTTP/1.1\r\nHost: secure.example\r\n\r\n"
        wire.exchange(b"AT+CIPSEND=0,%d\r\n" % len(request), b"\r\nOK\r\n> " if dialect == "1" else b"\r\nOK\r\n\r\n>")
        wire.exchange(request, b"\r\nRecv %d bytes\r\n\r\nSEND OK\r\n" % len(request))
        if dialect == "1":
            wire.expect(b"\r\n+IPD,0,%d:%s0,CLOSED\r\n" % (len(reply), reply))
            return
        wire.expect(b"\r\n+IPD,0,%d\r\n" % len(reply))
        wire.exchange(b"AT+CIPRECVDATA=0,100\r\n", b"+CIPRECVDATA:%d,%s\r\nOK\r\n0,CLOSED\r\n" % (len(reply), reply))
    finally:
        server.close()


def test_ssl_link_to_a_plain_tcp_server_fails_rather_than_falling_back(sim_port):
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(1)
    got = []

    def plain_http() -> None:                       # reads what comes, answers as an HTTP server would, closes
        conn, _ = listener.accept()
        with conn:
            conn.settimeout(10)
            got.append(conn.recv(4096))
            conn.sendall(b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
    thread = threading.Thread(target=plain_http, daemon=True)
    thread.start()
    try:
        port = listener.getsockname()[1]
        wire = sim_port(f"network=HomeNet:s3cr3t99&latency_scale=0&host=secure.example=127.0.0.1:{port}")
        ready_and_joined(wire)
        wire.exchange(b'AT+CIPSTART=0,"SSL","secure.example",443\r\n', b"\r\nERROR\r\n0,CLOSED\r\n")
        thread.join(10)
        assert got and got[0][:1] == b"\x16"         # a TLS handshake record reached it, not plain text
        wire.exchange(b"AT+CIPSTATUS\r\n", b"STATUS:2\r\n\r\nOK\r\n")
    finally:
        listener.close()


def test_tls_settings_can_require_a_certificate(tmp_path):
    """The parameter the SSL commands fill in: verify=True refuses a server whose certificate is not trusted."""
    import asyncio

    from esp8266sim.links import Link, LinkError, TlsSettings
    server = TlsServer(tmp_path, b"")
    other_cert, _ = _self_signed(tmp_path, "other.example")

    class Events:
        def received(self, link, data): pass

        def remote_closed(self, link): pass

        def link_drained(self, link): pass

    async def attempt(settings):
        link = Link(0, "SSL", "secure.example", 443, Events(), tls=settings)
        try:
            await link.open(("127.0.0.1", server.port))
        except LinkError as exc:
            return str(exc)
        encrypted = link.encrypted
        link.abort()
        return encrypted
    try:
        trusted = (tmp_path / "secure.example.pem").read_text()
        untrusted = open(other_cert).read()
        assert asyncio.run(attempt(TlsSettings(verify=True, ca_pem=trusted))) is True
        assert "CERTIFICATE_VERIFY_FAILED" in asyncio.run(attempt(TlsSettings(verify=True, ca_pem=untrusted)))
        assert "CERTIFICATE_VERIFY_FAILED" in asyncio.run(attempt(TlsSettings(verify=True)))     # no CA at all
        assert asyncio.run(attempt(TlsSettings())) is True
    finally:
        server.close()
