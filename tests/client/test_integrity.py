"""A wrong body is never reported as success: the framing after every +IPD block is checked, and a body is checked
against the digest its server sends. Seeds 1-8 of a lost or flipped byte per 10 000 must each end in the exact body
or a DataDamaged error."""
from __future__ import annotations

import base64
import hashlib

import pytest

from espat.proto import events as ev
from espat.client import EspAt
from espat.errors import DataDamaged, DataLost, IntegrityError
from espat.httpclient import request
from espat.integrity import Digester
from espat.proto.parser import Parser
from espat.transport import open_port
from simtools import ExactServer, sim_url

BODY = bytes((i * 31 + (i >> 8)) & 0xFF for i in range(50 * 1024))


def _reply(body: bytes, *fields: str) -> bytes:
    head = "".join(f"{f}\r\n" for f in fields)
    return (b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n%sConnection: close\r\n\r\n" % (len(body), head.encode())
            + body)


def _b64(data: bytes, name: str) -> str:
    return base64.b64encode(hashlib.new(name, data).digest()).decode()


# --- the parser: what may follow a payload ------------------------------------------------------------------------

FRAME = b"\r\n+IPD,0,5:hello"


@pytest.mark.parametrize("follow", [b"\r\n+IPD,0,3:abc\r\n", b"0,CLOSED\r\n", b"1,CONNECT\r\n",
                                    b"WIFI DISCONNECT\r\n", b"\r\nSEND OK\r\n", b"STATUS:3\r\n",
                                    b'+STA_CONNECTED:"24:0a:c4:00:00:01"\r\n'])
def test_what_the_module_sends_after_a_payload_is_accepted(follow):
    for chunks in ([FRAME + follow], [bytes([b]) for b in FRAME + follow]):
        p = Parser()
        events = [e for c in chunks for e in p.receive_data(c)]
        assert ev.Ipd(0, b"hello") in events
        assert not any(isinstance(e, ev.FramingLost) for e in events)
        assert not p.unconfirmed


@pytest.mark.parametrize("lost_at", range(1, 5))
def test_a_byte_lost_inside_a_payload_is_framing_lost_and_the_next_block_is_read(lost_at):
    """The lost byte makes the parser take the next frame's CR as data; the `\\n+IPD` left over gives it away."""
    stream = b"\r\n+IPD,0,5:hello" + b"\r\n+IPD,0,5:world" + b"0,CLOSED\r\n"
    damaged = stream[:len(b"\r\n+IPD,0,5:") + lost_at] + stream[len(b"\r\n+IPD,0,5:") + lost_at + 1:]
    for chunks in ([damaged], [bytes([b]) for b in damaged]):
        p = Parser()
        events = [e for c in chunks for e in p.receive_data(c)]
        assert events[1] == ev.FramingLost(0)
        assert events[2:] == [ev.Ipd(0, b"world"), ev.Closed(0)]      # back in step at once


@pytest.mark.parametrize("glued", [b"0,CLOSED\r\n", b"CLOSED\r\n"])
def test_a_byte_lost_in_the_last_block_shows_in_the_close_after_it(glued):
    link = 0 if glued[0:1] == b"0" else None
    head = b"\r\n+IPD,0,5:" if link == 0 else b"\r\n+IPD,5:"
    p = Parser()
    events = p.receive_data(head + b"helo" + glued + b"\r\nOK\r\n")       # 5 announced, 4 came
    assert ev.FramingLost(link) in events
    assert events[-1] == ev.Ok()
    assert not any(isinstance(e, ev.Closed) for e in events[:-1]) or link is None


@pytest.mark.parametrize("reply", [b"\r\n+CIPRECVDATA,5:helo\r\nOK\r\n", b"+CIPRECVDATA:5,helo\r\nOK\r\n"])
def test_a_byte_lost_in_a_passive_read_is_framing_lost_and_its_ok_still_ends_the_command(reply):
    assert Parser().receive_data(reply) == [ev.RecvData(b"helo\r"), ev.FramingLost(None), ev.Ok()]


def test_a_close_of_the_wrong_form_after_a_payload_is_damage():
    # with CIPMUX=1 the module never sends a bare CLOSED: the `0,` went into the payload
    assert ev.FramingLost(0) in Parser().receive_data(b"\r\n+IPD,0,5:hell0CLOSED\r\n")


def test_a_link_line_after_a_payload_without_mux_is_damage():
    # with CIPMUX=0 the module says `CLOSED`: a `0,CLOSED` glued to the payload is no line it sends there
    events = Parser().receive_data(b"\r\n+IPD,5:hello0,CLOSED\r\n")
    assert events[0] == ev.Ipd(None, b"hello")
    assert ev.FramingLost(None) in events and not any(isinstance(e, ev.Closed) for e in events)
    assert Parser().receive_data(b"\r\n+IPD,5:helloCLOSED\r\n") == [ev.Ipd(None, b"hello"), ev.Closed(None)]


@pytest.mark.parametrize("head", [b"\r\n+IPD,0,0:", b"\r\n+IPD,0:", b"\r\n+IPD,5,3:", b"\r\n+IPD,9,3:"])
def test_an_ipd_header_the_module_never_sends_is_framing_lost(head):
    """An empty block or a link id past 4 comes only from damage: the bytes after it are not read as data."""
    for chunks in ([head + b"abc\r\n"], [bytes([b]) for b in head + b"abc\r\n"]):
        p = Parser()
        events = [e for c in chunks for e in p.receive_data(c)]
        assert events[0] == ev.FramingLost(None)
        assert not any(isinstance(e, ev.Ipd) for e in events)
        assert p.payload_missing == 0


def test_a_damaged_header_is_framing_lost_not_a_line():
    events = Parser().receive_data(b"\r\n+IPD,0,1460HTTP/1.1 200 OK\r\nxx\r\n+IPD,0,2:ab0,CLOSED\r\n")
    assert events[0] == ev.FramingLost(None)
    assert events[-2:] == [ev.Ipd(0, b"ab"), ev.Closed(0)]


def test_a_payload_is_unconfirmed_until_what_follows_it_arrives():
    p = Parser()
    assert p.receive_data(FRAME) == [ev.Ipd(0, b"hello")]
    assert p.unconfirmed
    assert p.receive_data(b"\r") == [] and p.unconfirmed
    assert p.receive_data(b"\n") == [] and not p.unconfirmed


# --- digests ------------------------------------------------------------------------------------------------------

def _digester(body: bytes) -> Digester:
    d = Digester()
    d.update(body[:7])
    d.update(body[7:])
    return d


@pytest.mark.parametrize("field, expected", [
    (f"Repr-Digest: sha-256=:{_b64(b'hello world', 'sha256')}:", ["Repr-Digest sha-256"]),
    (f"Repr-Digest: sha-512=:{_b64(b'hello world', 'sha512')}:, sha-256=:{_b64(b'hello world', 'sha256')}:",
     ["Repr-Digest sha-512", "Repr-Digest sha-256"]),
    (f"Content-Digest: sha-256=:{_b64(b'hello world', 'sha256')}:;x=1, crc32c=:AAAAAA==:",
     ["Content-Digest sha-256"]),
    (f"Content-MD5: {_b64(b'hello world', 'md5')}", ["Content-MD5 md5"]),
    ("Repr-Digest: md5=:XrY7u+Ae7tCTyyK7j1rNww==:", []),     # not an algorithm RFC 9530 keeps: not checked
])
def test_a_digest_the_server_sent_is_checked(field, expected):
    name, _, value = field.partition(": ")
    assert _digester(b"hello world").verify(200, [(name, value)]) == expected


@pytest.mark.parametrize("name, alg", [("Repr-Digest", "sha-256"), ("Content-Digest", "sha-512"),
                                       ("Content-MD5", "md5")])
def test_a_digest_mismatch_names_both_digests(name, alg):
    hashname = alg.replace("-", "")
    value = _b64(b"hello world", hashname)
    field = value if name == "Content-MD5" else f"{alg}=:{value}:"
    with pytest.raises(IntegrityError) as caught:
        _digester(b"hello w0rld").verify(200, [(name, field)])
    wanted = hashlib.new(hashname, b"hello world").hexdigest()
    got = hashlib.new(hashname, b"hello w0rld").hexdigest()
    assert wanted in str(caught.value) and got in str(caught.value) and name in str(caught.value)
    assert isinstance(caught.value, DataDamaged)


def test_an_unreadable_digest_is_not_taken_as_a_match():
    with pytest.raises(IntegrityError, match="unreadable"):
        _digester(b"hello").verify(200, [("Repr-Digest", "sha-256=:bm90IGEgZGlnZXN0:")])


def test_repr_digest_of_a_part_is_not_checked_against_the_part():
    field = ("Repr-Digest", f"sha-256=:{_b64(b'the whole', 'sha256')}:")
    assert _digester(b"a part").verify(206, [field, ("Content-Range", "bytes 0-5/9")]) == []


# --- end to end through the fake module ---------------------------------------------------------------------------

@pytest.fixture
def serve():
    servers = []

    def make(reply: bytes) -> ExactServer:
        servers.append(ExactServer(lambda request: reply))
        return servers[-1]
    yield make
    for s in servers:
        s.close()


def _get(srv: ExactServer, fault: str, seed: int):
    got = bytearray()
    with EspAt(sim_url(srv, faults=[fault], seed=seed)) as esp:
        esp.sync()
        esp.join("HomeNet", "s3cr3t99")
        try:
            response = request(esp, "GET", "http://example.com/blob", sink=got.extend, timeout=20)
        except DataDamaged as exc:
            return exc, got
    return response, got


def test_lost_bytes_never_give_a_wrong_body_reported_as_success(serve):
    """Seeds 1-8 of drop:0.0001 each lose bytes inside the 50 KB; before the framing check seven of them returned
    51200 bytes that were not the body, as success."""
    srv = serve(_reply(BODY))
    outcomes = []
    for seed in range(1, 9):
        result, got = _get(srv, "drop:0.0001", seed)
        if isinstance(result, DataDamaged):
            outcomes.append(type(result).__name__)
        else:
            assert bytes(got) == BODY, f"seed {seed}: a wrong body was reported as success"
            outcomes.append("exact")
    assert outcomes.count("exact") < 8, "the fault never fired"      # it loses bytes in every one of these seeds
    assert set(outcomes) <= {"exact", "DataLost", "BodyTruncated"}


def test_flipped_bits_are_caught_by_the_servers_digest(serve):
    """A flipped bit inside a block cannot be seen in the AT framing at all; the Repr-Digest catches it."""
    srv = serve(_reply(BODY, f"Repr-Digest: sha-256=:{_b64(BODY, 'sha256')}:"))
    outcomes = []
    for seed in range(1, 9):
        result, got = _get(srv, "corrupt:0.0001", seed)
        if isinstance(result, DataDamaged):
            outcomes.append(type(result).__name__)
        else:
            assert bytes(got) == BODY, f"seed {seed}: a wrong body was reported as success"
            assert result.verified == ["Repr-Digest sha-256"]
            assert result.sha256 == hashlib.sha256(BODY).hexdigest()
            outcomes.append("exact")
    assert "IntegrityError" in outcomes, "no flip landed inside a block: the digest was never put to the test"


def test_the_result_carries_the_bodys_sha256_and_what_was_verified(serve):
    srv = serve(_reply(b"hello", f"Content-Digest: sha-512=:{_b64(b'hello', 'sha512')}:"))
    with EspAt(sim_url(srv)) as esp:
        esp.sync()
        esp.join("HomeNet", "s3cr3t99")
        response = request(esp, "GET", "http://example.com/")
    assert response.sha256 == hashlib.sha256(b"hello").hexdigest()
    assert response.verified == ["Content-Digest sha-512"]
    assert b"\r\nWant-Repr-Digest: sha-256=9, sha-512=3\r\n" in srv.requests[0]


def test_a_body_that_does_not_match_its_digest_is_an_integrity_error(serve):
    srv = serve(_reply(b"hello", f"Repr-Digest: sha-256=:{_b64(b'hellO', 'sha256')}:"))
    got = bytearray()
    with EspAt(sim_url(srv)) as esp:
        esp.sync()
        esp.join("HomeNet", "s3cr3t99")
        with pytest.raises(IntegrityError, match=hashlib.sha256(b"hellO").hexdigest()):
            request(esp, "GET", "http://example.com/", sink=got.extend)
        assert esp.links and not any(link.open for link in esp.links.values())
    assert bytes(got) == b"hello"


def test_data_lost_leaves_the_client_able_to_go_on(serve):
    srv = serve(_reply(BODY))
    with EspAt(sim_url(srv, faults=["drop:0.0001"], seed=1)) as esp:
        esp.sync()
        esp.join("HomeNet", "s3cr3t99")
        with pytest.raises(DataLost):
            request(esp, "GET", "http://example.com/blob", timeout=20)
        reply = esp.at("AT")
        assert isinstance(reply.final, ev.Ok)


class DropAfter:
    """A port that loses the one byte that follows `marker` in what the module sends; the byte after it comes as
    it would, the rest only once `release()` says so: the block looks whole, and what shows the loss comes late (a
    module's next line or its CLOSED can come any time after a block)."""

    def __init__(self, port, marker: bytes) -> None:
        self.port, self.marker = port, marker
        self.tail = b""
        self.dropped = None
        self.passed = False         # the byte after the lost one went through
        self.held = b""
        self.release = lambda: True

    def __getattr__(self, name):
        return getattr(self.port, name)

    def read(self, size: int = 1) -> bytes:
        if self.passed and self.held and self.release():
            out, self.held = self.held, b""
            return out
        data = self.port.read(size)
        if self.dropped is not None:
            if not self.passed and data:
                self.passed = True
                self.held += data[1:]
                return data[:1]
            self.held += data
            return b""
        for i, byte in enumerate(data):
            if self.tail.endswith(self.marker):
                self.dropped = bytes([byte])
                rest, data = data[i + 1:], data[:i]
                if rest:
                    self.passed = True
                    self.held = rest[1:]
                    data += rest[:1]
                return data
            self.tail = (self.tail + bytes([byte]))[-len(self.marker):]
        return data


def test_a_byte_lost_in_the_last_block_is_never_success(serve):
    """The body's last byte is lost: the block takes the `0` of `0,CLOSED` in its place and h11 sees a whole body of
    the right length. Only the bytes after the block (`,CLOSED`) show it: the response must not be a success."""
    srv = serve(_reply(b"hello, world"))
    port = DropAfter(open_port(sim_url(srv)), b"hello, worl")
    got = bytearray()
    with EspAt("sim://", port=port) as esp:
        # what follows the block comes once the client has handed the block's data on (its reads are done)
        port.release = lambda: not any(link.received for link in esp.links.values())
        esp.sync()
        esp.join("HomeNet", "s3cr3t99")
        with pytest.raises(DataLost):
            request(esp, "GET", "http://example.com/", sink=got.extend)
    assert port.dropped == b"d", "the fault never fired"
    assert bytes(got) == b"hello, worl0"        # what a client without the check would have called the body
