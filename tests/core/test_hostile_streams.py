"""Properties of what the parser makes of hostile or damaged streams, checked on the content of its events.

- Garbage that holds `+IPD,` headers with lengths the module never sends (zero, past the payload bound, longer
  than the bytes that follow, a link id past 4, too many digits): every payload the parser hands out is a slice of
  the input that sits right after a header announcing exactly its length; nothing is invented, nothing read past
  the stream, and the first well-formed reply after a refused header still comes out.
- `Recv N bytes` and `SEND OK` (and the lines around them) cut at every position, into two and three pieces: the
  same events, with the same N.
- A payload above 2048 bytes: the CIPSEND chunks the framing makes, played through the fake module to a loopback
  server, arrive as the payload byte for byte.
"""
from __future__ import annotations

import asyncio
import re

from hypothesis import given, settings, strategies as st

from espat.proto import events as ev
from espat.proto.commands import MAX_SEND
from espat.proto.framing import frame_send
from espat.proto.parser import Parser

MAX_PAYLOAD = 2048

# --- hostile +IPD headers -------------------------------------------------------------------------------------------

_HOSTILE_LENGTHS = st.one_of(
    st.just(b"0"), st.just(b"-1"), st.just(b"99999"), st.just(b"123456789"), st.just(b""), st.just(b"4x"),
    st.integers(MAX_PAYLOAD + 1, 70_000).map(lambda n: b"%d" % n),
    st.integers(1, 300).map(lambda n: b"%d" % n),          # plausible, but maybe longer than what follows
)
_LINK_IDS = st.one_of(st.none(), st.integers(0, 9).map(lambda n: b"%d" % n), st.just(b"-1"), st.just(b"44"))


@st.composite
def hostile_headers(draw) -> bytes:
    link, length = draw(_LINK_IDS), draw(_HOSTILE_LENGTHS)
    head = b"+IPD," + (link + b"," if link is not None else b"") + length
    return draw(st.sampled_from([b"", b"\r\n"])) + head + draw(st.sampled_from([b":", b"\r\n", b",", b""]))


@st.composite
def garbage_with_headers(draw) -> bytes:
    parts = []
    for _ in range(draw(st.integers(1, 10))):
        kind = draw(st.integers(0, 2))
        if kind == 0:
            parts.append(draw(hostile_headers()))
        elif kind == 1:
            parts.append(draw(st.binary(max_size=120)))
        else:
            parts.append(draw(st.sampled_from([b"\r\nOK\r\n", b"4,CLOSED\r\n", b"\r\nSEND OK\r\n", b"+IPD,",
                                               b"\r\n+IPD,2,3:abc", b"\r\n+IPD,5:hello"])))
    return b"".join(parts)


_HEADER = re.compile(rb"\+IPD,(?:(\d+),)?(\d+)(?:,\"?[0-9.]+\"?,\d+)?:")


def _payloads_are_real_slices(stream: bytes, events: list) -> None:
    """Each Ipd's data follows, in `stream`, a header announcing its length and link, after the previous one."""
    pos = 0
    for event in events:
        if not isinstance(event, ev.Ipd):
            continue
        found = False
        for m in _HEADER.finditer(stream, pos):
            link = int(m.group(1)) if m.group(1) is not None else None
            if int(m.group(2)) == len(event.data) and link == event.link_id \
                    and stream[m.end():m.end() + len(event.data)] == event.data:
                pos = m.end() + len(event.data)
                found = True
                break
        assert found, f"payload {event.data!r} of link {event.link_id} is not a slice the stream announced"


@settings(max_examples=400, deadline=None)
@given(garbage_with_headers(), st.lists(st.integers(0, 4000), max_size=20))
def test_hostile_ipd_headers_invent_nothing(stream, cuts):
    parser = Parser(max_line=256, max_payload=MAX_PAYLOAD)
    events = []
    for piece in _cut(stream, cuts):
        events += parser.receive_data(piece)
        assert parser.pending <= 256 + MAX_PAYLOAD + len(piece)
    _payloads_are_real_slices(stream, events)
    assert sum(len(e.data) for e in events if isinstance(e, ev.Ipd)) <= len(stream)
    for event in events:
        if isinstance(event, ev.Ipd):
            assert 1 <= len(event.data) <= MAX_PAYLOAD
            assert event.link_id is None or 0 <= event.link_id <= 4
    assert events == Parser(max_line=256, max_payload=MAX_PAYLOAD).receive_data(stream)


@settings(max_examples=300, deadline=None)
@given(hostile_headers().filter(lambda h: h.endswith(b":")), st.binary(max_size=40))
def test_a_refused_header_does_not_swallow_the_next_reply(header, filler):
    """A header the parser does not trust (length 0, past the bound, id past 4) is read as a line: the OK after it
    comes out. A trusted one takes exactly its bytes, so the OK comes out once they are there."""
    m = re.fullmatch(rb"(?:\r\n)?\+IPD,(?:(-?\d+),)?(-?\d*)(.*)", header, re.S)
    link, length, rest = m.groups()
    trusted = rest == b":" and length.isdigit() and 1 <= int(length) <= MAX_PAYLOAD and len(length) <= 5 \
        and (link is None or (link.isdigit() and int(link) <= 4))
    body = filler.replace(b"\n", b".")
    if trusted:
        body = (body + b"." * int(length))[:int(length)]
    events = Parser(max_payload=MAX_PAYLOAD).receive_data(header + body + b"\r\nOK\r\n")
    assert events[-1] == ev.Ok()
    ipds = [e for e in events if isinstance(e, ev.Ipd)]
    if trusted:
        assert ipds == [ev.Ipd(int(link) if link else None, body)]
    else:
        assert ipds == []


# --- Recv / SEND OK cut anywhere ------------------------------------------------------------------------------------

def _cut(data: bytes, cuts) -> list:
    marks = sorted({c % (len(data) + 1) for c in cuts})
    pieces, last = [], 0
    for mark in marks + [len(data)]:
        pieces.append(data[last:mark])
        last = mark
    return pieces


def _parse_pieces(pieces) -> list:
    parser = Parser()
    out = []
    for piece in pieces:
        out += parser.receive_data(piece)
    return out


@settings(max_examples=60, deadline=None)
@given(st.integers(1, MAX_SEND),
       st.sampled_from([b"", b"1,CONNECT\r\n", b"\r\n+IPD,1,3:abc", b"WIFI GOT IP\r\n"]),
       st.sampled_from([b"\r\nOK\r\n> ", b"\r\nOK\r\n\r\n>"]))
def test_recv_and_send_ok_cut_at_every_position(length, between, prompt):
    stream = prompt + b"\r\nRecv %d bytes\r\n" % length + between + b"\r\nSEND OK\r\n"
    expected = Parser().receive_data(stream)
    assert expected[0] == ev.Ok() and expected[1] == ev.Prompt()
    assert expected[2] == ev.Recv(length) and expected[-1] == ev.SendOk()
    if between == b"\r\n+IPD,1,3:abc":
        assert expected[3] == ev.Ipd(1, b"abc")
    for i in range(len(stream) + 1):
        assert _parse_pieces([stream[:i], stream[i:]]) == expected, f"cut at {i}"
        for j in range(i, len(stream) + 1, 3):
            assert _parse_pieces([stream[:i], stream[i:j], stream[j:]]) == expected, f"cut at {i} and {j}"


# --- payloads above 2048 bytes --------------------------------------------------------------------------------------

_BIG = st.tuples(st.integers(MAX_SEND + 1, 3 * MAX_SEND + 5), st.binary(min_size=1, max_size=97)) \
    .map(lambda t: (t[1] * (t[0] // len(t[1]) + 1))[:t[0]])


@settings(max_examples=200, deadline=None)
@given(_BIG, st.one_of(st.none(), st.integers(0, 4)), st.integers(1, MAX_SEND))
def test_framing_splits_big_payloads_greedily(payload, link_id, limit):
    chunks = frame_send(payload, link_id, limit)
    assert len(payload) > MAX_SEND
    assert b"".join(c.data for c in chunks) == payload
    assert len(chunks) == -(-len(payload) // limit)
    assert all(len(c.data) == limit for c in chunks[:-1]) and 1 <= len(chunks[-1].data) <= limit
    prefix = b"AT+CIPSEND=" + (b"%d," % link_id if link_id is not None else b"")
    assert [c.command.line for c in chunks] == [prefix + b"%d\r\n" % len(c.data) for c in chunks]


@settings(max_examples=8, deadline=None)
@given(_BIG, st.sampled_from(["1.7", "2.x"]))
def test_big_payload_reaches_the_server_through_the_fake(payload, dialect):
    """Each chunk: command, prompt, data, Recv with its length, SEND OK; the server gets the payload exactly."""
    from golden.replay import FakeEnd, LoopbackServer

    async def run() -> bytes:
        server = LoopbackServer("silent", b"")
        await server.start()
        end = FakeEnd(dialect, [], server.port)
        parser = Parser()
        try:
            async def answer(line: bytes, until: type) -> list:
                end.write([line])
                got = []
                while not any(isinstance(e, until) for e in got):
                    data = await end.read(1, 10.0)
                    assert data, f"no {until.__name__} after {line[:40]!r}; got {got}"
                    got += parser.receive_data(data)
                return got
            await answer(b"", ev.Ready)
            await answer(b"ATE0\r\n", ev.Ok)
            join = b"AT+CWJAP_CUR" if dialect == "1.7" else b"AT+CWJAP"
            await answer(join + b'="HomeNet","s3cr3t99"\r\n', ev.Ok)
            await answer(b'AT+CIPSTART="TCP","example.com",80\r\n', ev.Ok)
            for chunk in frame_send(payload, None):
                assert ev.Prompt() in await answer(chunk.command.line, ev.Prompt)
                events = await answer(chunk.data, ev.SendOk)
                recv = [e for e in events if isinstance(e, ev.Recv)]
                assert len(recv) == 1
                chunk.check_recv(recv[0])
            for _ in range(200):
                if len(server.received) >= len(payload):
                    break
                await asyncio.sleep(0.01)
            return bytes(server.received)
        finally:
            end.close()
            server.close()
    assert asyncio.run(run()) == payload
