"""Nothing stuck, nothing sent twice unknowingly: links are reconciled and always closed, the whole operation has
one deadline, and a POST whose outcome is unknown says so (DeliveryUnknown) instead of looking failed or done."""
from __future__ import annotations

import base64
import hashlib
import socket
import threading
import time

import pytest

from espat.proto import events as ev
from espat.client import EspAt, LinkInfo
from espat.errors import CommandTimeout, DeliveryUnknown, EspAtError, HttpError, LocalProtocolError, ModuleError
from espat.httpclient import request
from simtools import ExactServer, ScriptedPort, sim_url

OK_REPLY = b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\nConnection: close\r\n\r\nhello"


@pytest.fixture
def server():
    servers = []

    def make(reply=OK_REPLY):
        servers.append(ExactServer(reply if callable(reply) else (lambda request: reply)))
        return servers[-1]
    yield make
    for s in servers:
        s.close()


def _joined(url: str) -> EspAt:
    esp = EspAt(url)
    esp.sync()
    esp.join("HomeNet", "s3cr3t99")
    return esp


class Trickle:
    """A server that answers 1 KB at once and then one byte every 50 ms, as a stalled or trickling server does."""

    def __init__(self, length: int = 4000) -> None:
        self.length = length
        self.sent = 0
        self.stop = threading.Event()
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(1)
        self.port = self.sock.getsockname()[1]
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self) -> None:
        conn, _ = self.sock.accept()
        with conn:
            while b"\r\n\r\n" not in conn.recv(4096):
                pass
            conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\nConnection: close\r\n\r\n" % self.length
                         + b"x" * 1024)
            self.sent = 1024
            while self.sent < self.length and not self.stop.wait(0.05):
                conn.sendall(b"x")
                self.sent += 1

    def close(self) -> None:
        self.stop.set()
        self.sock.close()


@pytest.mark.slow
def test_the_timeout_bounds_the_whole_operation_not_each_read():
    """Each byte comes well within any read's bound; only a bound on the whole GET ends it."""
    trickle = Trickle()
    try:
        with _joined(sim_url(host=f"example.com=127.0.0.1:{trickle.port}")) as esp:
            with pytest.raises(CommandTimeout, match="operation's bound"):
                request(esp, "GET", "http://example.com/", timeout=3)
            assert not any(link.open for link in esp.links.values())
            assert isinstance(esp.at("AT").final, ev.Ok)
        assert trickle.sent < trickle.length
    finally:
        trickle.close()


def test_a_link_left_open_by_an_earlier_process_does_not_block_the_next(server):
    """An earlier process (killed mid-transfer) left link 0 open: the next one reconciles and takes another id."""
    srv = server()
    idle = socket.socket()
    idle.bind(("127.0.0.1", 0))
    idle.listen(1)
    try:
        with _joined(sim_url(srv, host=f"idle.local=127.0.0.1:{idle.getsockname()[1]}")) as first:
            first.at("AT+CIPMUX=1")
            first.at('AT+CIPSTART=0,"TCP","idle.local",80')        # and then the process was killed
            later = EspAt(first.url, port=first.port)               # a new process on the same port
            later.sync()
            assert request(later, "GET", "http://example.com/").status == 200
            assert later.foreign == {0}
            assert 0 not in later.links
    finally:
        idle.close()


@pytest.mark.slow
def test_an_earlier_processs_download_still_arriving_is_closed(server):
    """Killed mid-download: its data keeps coming, for no one. The next process closes that link, so the wire is
    its own again, and reads its own body whole."""
    big = bytes(range(256)) * 160
    srv = server(b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\nConnection: close\r\n\r\n" % len(big) + big)
    with _joined(sim_url(srv, baud=115200)) as first:
        link = first.open_link("example.com", 80)
        first.send(link, b"GET / HTTP/1.1\r\nHost: example.com\r\n\r\n")
        assert first.receive(link, timeout=5)                  # data flowing; and then the process was killed
        later = EspAt(first.url, port=first.port)
        later.sync()
        got = bytearray()
        assert request(later, "GET", "http://example.com/", sink=got.extend).status == 200
        assert later.foreign == set()
        assert bytes(got) == big


@pytest.mark.slow
def test_a_connect_past_its_bound_is_closed_and_the_next_get_works(server):
    """An address nobody answers: the connect outlives the operation's bound; the link is closed (or noted as left
    open) and the next GET gets another id, never ALREADY CONNECTED."""
    srv = server()
    url = sim_url(srv).replace("latency_scale=0", "latency_scale=0.3")     # unanswered SYNs take 2.4 s here
    with _joined(url) as esp:
        with pytest.raises(CommandTimeout, match="operation's bound"):
            request(esp, "GET", "http://10.9.9.9/", timeout=1.0)
        assert esp.links[0].closing and esp.left_open == {0}   # still connecting: noted, not closed into busy
        response = request(esp, "GET", "http://example.com/")   # waits out a busy connect, on a free id
        assert response.status == 200
        assert esp.clean                        # the connect failed in the end: its CLOSED came
        assert isinstance(esp.at("AT").final, ev.Ok)


@pytest.mark.slow
def test_an_interrupted_transfer_closes_its_link_and_the_next_command_works(server):
    """Ctrl-C at the first block: the link is closed within a short bound (or noted as left open when the module's
    answer is queued behind the data still coming); the data still coming is dropped; the next commands work and
    are in step (the close's late answer is not taken for theirs)."""
    big = bytes(range(256)) * 240
    srv = server(b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\nConnection: close\r\n\r\n" % len(big) + big)

    def interrupt(data: bytes) -> None:
        raise KeyboardInterrupt

    with _joined(sim_url(srv, baud=115200)) as esp:
        with pytest.raises(KeyboardInterrupt):
            request(esp, "GET", "http://example.com/", sink=interrupt)
        interrupted = esp.links[0]
        assert interrupted.closing and not interrupted.received
        assert interrupted.open == (0 in esp.left_open)         # open as far as anyone knows, until its CLOSED
        assert isinstance(esp.at("AT").final, ev.Ok)
        assert esp.station().ssid == "HomeNet"                  # the next answers are their own
        got = bytearray()
        assert request(esp, "GET", "http://example.com/", sink=got.extend).status == 200
        assert bytes(got) == big and esp.clean


def test_a_post_answered_by_a_closed_link_may_have_been_delivered(server):
    srv = server(b"HTTP/1.1 201 Created\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
    with _joined(sim_url(srv, faults=["remote-close@send=1"])) as esp:
        with pytest.raises(DeliveryUnknown, match="may have been delivered") as unknown:
            request(esp, "POST", "http://example.com/r", b'{"t":1}', idempotency_key="k-17")
    assert isinstance(unknown.value.cause, HttpError)
    deadline = time.monotonic() + 10            # the server's thread records what it read in its own time
    while not srv.requests and time.monotonic() < deadline:
        time.sleep(0.01)
    assert srv.requests and srv.requests[0].endswith(b'{"t":1}')           # it was, in fact, delivered
    assert b'\r\nIdempotency-Key: k-17\r\n' in srv.requests[0]
    assert b"\r\nContent-Digest: sha-256=:%s:\r\n" % base64.b64encode(hashlib.sha256(b'{"t":1}').digest()) \
        in srv.requests[0]


def test_a_post_of_several_sends_answered_by_a_closed_link_may_have_been_delivered(server):
    """5000 bytes go out in three CIPSENDs; the link closes after the last one: every byte left, so the outcome is
    unknown, not a plain failure (the count of bytes sent is summed over the sends, not the last send's)."""
    body = bytes(range(256)) * 19 + b"end"
    srv = server(b"HTTP/1.1 201 Created\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
    with _joined(sim_url(srv, faults=["remote-close@send=3"])) as esp:
        with pytest.raises(DeliveryUnknown, match="may have been delivered"):
            request(esp, "POST", "http://example.com/r", body)
        assert esp.links[0].sent > 2 * 2048     # it took three sends
    deadline = time.monotonic() + 10            # the server's thread records what it read in its own time
    while not srv.requests and time.monotonic() < deadline:
        time.sleep(0.01)
    assert srv.requests and srv.requests[0].endswith(body)


@pytest.mark.slow
def test_a_post_with_no_answer_within_the_bound_may_have_been_delivered(server):
    release = threading.Event()
    srv = server(lambda request: release.wait(20) and b"")
    try:
        with _joined(sim_url(srv)) as esp:
            with pytest.raises(DeliveryUnknown) as unknown:
                request(esp, "POST", "http://example.com/r", b"x", timeout=2)
            assert isinstance(unknown.value.cause, CommandTimeout)
    finally:
        release.set()


@pytest.mark.parametrize("method", ["GET", "HEAD", "OPTIONS", "TRACE"])
def test_a_safe_request_that_fails_the_same_way_is_just_its_error(server, method):
    """Repeating a safe method changes nothing on the server: its failure is the failure, never 'may have been
    delivered'."""
    srv = server()
    with _joined(sim_url(srv, faults=["remote-close@send=1"])) as esp:
        with pytest.raises(HttpError) as failed:
            request(esp, method, "http://example.com/")
    assert not isinstance(failed.value, DeliveryUnknown)
    assert srv.got_request.wait(10) and srv.requests[0].startswith(method.encode() + b" / HTTP/1.1\r\n")


@pytest.mark.parametrize("method", ["PUT", "PATCH", "DELETE"])
def test_every_unsafe_method_answered_by_a_closed_link_may_have_been_delivered(server, method):
    with _joined(sim_url(server(), faults=["remote-close@send=1"])) as esp:
        with pytest.raises(DeliveryUnknown, match=f"{method} http://example.com/r may have been delivered"):
            request(esp, method, "http://example.com/r", b"x")


def test_a_post_that_never_went_out_is_not_unknown():
    with _joined(sim_url()) as esp:
        with pytest.raises(ModuleError, match="DNS Fail"):
            request(esp, "POST", "http://nowhere.example/r", b"x")


@pytest.mark.parametrize("key", ["a b", "r\u00e9", "", "k" * 256, "r\n17"])
def test_an_idempotency_key_must_be_sendable(key):
    with _joined(sim_url()) as esp:
        with pytest.raises(LocalProtocolError, match="idempotency key"):
            request(esp, "POST", "http://example.com/r", b"x", idempotency_key=key)


def test_send_ok_without_its_recv_line_is_a_confirmed_send():
    """The `Recv 5 bytes` line was garbled away; SEND OK alone still says the module took the bytes."""
    port = ScriptedPort(b"\r\nOK\r\n> " + b"\r\nSEND OK\r\n")
    esp = EspAt("scripted://", port=port)
    esp.links[0] = LinkInfo(0, "example.com", 80)
    esp.send(0, b"hello")
    assert esp.links[0].sent == 5
    assert bytes(port.written) == b"AT+CIPSEND=0,5\r\nhello"


READING = b'{"device":"greenhouse-uno-1","seq":%d,"readings":{"a0_c":21.5}}' + b" " * 1200


def _checking_server(stored: list, refused: list):
    """A server that stores a body only when it matches the request's Content-Digest, as RFC 9530 lets it; the
    bodies whose digest did not match go to `refused` (a request without a digest is refused, not counted)."""
    def reply(request: bytes) -> bytes:
        head, _, body = request.partition(b"\r\n\r\n")
        sent = [line.split(b"=:", 1)[1].rstrip(b":") for line in head.split(b"\r\n")
                if line.lower().startswith(b"content-digest: sha-256=:")]
        if not sent or base64.b64decode(sent[0]) != hashlib.sha256(body).digest():
            if sent:
                refused.append(body)
            return b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
        stored.append(body)
        return b"HTTP/1.1 201 Created\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
    return reply


@pytest.mark.slow
@pytest.mark.parametrize("fault, digest_tested", [("corrupt-up:0.001", True), ("drop-up:0.001", False)])
def test_a_post_damaged_on_the_way_to_the_module_is_never_stored_as_sent(server, fault, digest_tested):
    """A byte flipped or lost between host and module reaches the server (the AT protocol cannot tell); the body's
    Content-Digest lets the server refuse it. Every run ends in 201 with the exact body stored, a refusal, or a
    typed error; never a damaged body stored and reported as delivered."""
    stored: list = []
    refused: list = []
    srv = server(_checking_server(stored, refused))
    outcomes = []
    for seed in range(1, 9):
        body = READING % seed
        with EspAt(sim_url(srv, faults=[fault], seed=seed)) as esp:
            try:
                esp.sync()
                esp.join("HomeNet", "s3cr3t99")
                response = request(esp, "POST", "http://example.com/r", body, timeout=10)
            except EspAtError as exc:
                outcomes.append(type(exc).__name__)
                continue
        outcomes.append(response.status)
        if response.status == 201:
            assert stored[-1] == body, f"seed {seed}: a damaged body was stored and reported as delivered"
    assert outcomes.count(201) < 8, f"the fault never fired: {outcomes}"
    assert stored, f"no body was stored: the client's Content-Digest was never accepted: {outcomes}"
    if digest_tested:       # a flipped byte reaches the server; a lost one leaves the module waiting for it
        assert refused, f"no damaged body reached the server, so its digest was never put to the test: {outcomes}"
    assert all(body in (READING % seed for seed in range(1, 9)) for body in stored)


def test_an_id_taken_behind_the_clients_back_is_skipped(server):
    """Reconciled earlier, then someone typed a CIPSTART by hand: ALREADY CONNECTED moves the open to a free id."""
    srv = server()
    idle = socket.socket()
    idle.bind(("127.0.0.1", 0))
    idle.listen(1)
    try:
        with _joined(sim_url(srv, host=f"idle.local=127.0.0.1:{idle.getsockname()[1]}")) as esp:
            esp.reconcile()
            esp.at("AT+CIPMUX=1")
            esp.at('AT+CIPSTART=0,"TCP","idle.local",80')
            assert request(esp, "GET", "http://example.com/").status == 200
            assert esp.foreign == {0}
    finally:
        idle.close()
