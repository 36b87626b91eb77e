"""Properties that must hold for any input: chunking, escaping, framing, garbage."""
from __future__ import annotations

from hypothesis import event, given, settings, strategies as st

from espat.proto import events as ev
from espat.proto.commands import MAX_SEND, escape
from espat.proto.framing import frame_send
from espat.proto.parser import Parser

# A realistic stream: replies, unsolicited lines and length-framed payloads holding anything.
_LINES = [b"\r\nOK\r\n", b"\r\nERROR\r\n", b"AT+CIPSEND=4,5\r\r\n", b"\r\nOK\r\n> ", b"\r\nRecv 5 bytes\r\n",
          b"\r\nSEND OK\r\n", b"4,CONNECT\r\n", b"4,CLOSED\r\n", b"WIFI GOT IP\r\n", b"\r\nbusy p...\r\n",
          b"+CWJAP:3\r\n\r\nFAIL\r\n", b"STATUS:3\r\n", b"\r\n+IPD,2,10\r\n", b"\r\nready\r\n",
          b"ERR CODE:0x01090000\r\n\r\nERROR\r\n", b"\r\nOK\r\n\r\n>"]


@st.composite
def framed_streams(draw):
    """A stream and the +IPD payloads in it, in order."""
    parts, payloads = [], []
    for _ in range(draw(st.integers(0, 12))):
        if draw(st.booleans()):
            parts.append(draw(st.sampled_from(_LINES)))
        else:
            data = draw(st.binary(min_size=1, max_size=300))
            link = draw(st.integers(0, 4))
            parts.append(b"\r\n+IPD,%d,%d:" % (link, len(data)) + data)
            payloads.append((link, data))
    return b"".join(parts), payloads


streams = lambda: framed_streams().map(lambda pair: pair[0])  # noqa: E731


def _chunked(data: bytes, cuts: list) -> list:
    points = sorted({c % (len(data) + 1) for c in cuts})
    pieces, last = [], 0
    for p in points + [len(data)]:
        pieces.append(data[last:p])
        last = p
    return pieces


@settings(max_examples=300, deadline=None)
@given(streams(), st.lists(st.integers(0, 10_000), max_size=40))
def test_any_chunking_gives_the_same_events(stream, cuts):
    whole = Parser().receive_data(stream)
    p = Parser()
    pieces = []
    for piece in _chunked(stream, cuts):
        pieces.extend(p.receive_data(piece))
    assert pieces == whole
    q = Parser()
    q.receive_data(stream)
    assert p.pending == q.pending


@settings(max_examples=200, deadline=None)
@given(framed_streams())
def test_ipd_payloads_come_out_exactly(pair):
    stream, payloads = pair
    got = [(e.link_id, e.data) for e in Parser().receive_data(stream) if isinstance(e, ev.Ipd)]
    assert got == payloads


_ARG_TEXT = st.text(st.characters(blacklist_characters="\r\n\0", blacklist_categories=("Cs",)), max_size=20)


@given(_ARG_TEXT)
def test_escaped_text_has_no_bare_separator(text):
    body = escape(text)[1:-1]
    i = 0
    while i < len(body):
        if body[i] == "\\":
            i += 2
            continue
        assert body[i] not in '",'
        i += 1


# st.binary(max_size=...) alone stays small (600 examples never passed 34 bytes): draw the length first, with the
# number of whole chunks, the chunk boundaries and their neighbours, then bytes of exactly that length.
_SEND_EDGES = [1, 2, MAX_SEND - 1, MAX_SEND, MAX_SEND + 1, 2 * MAX_SEND - 1, 2 * MAX_SEND, 2 * MAX_SEND + 1,
               3 * MAX_SEND, 3 * MAX_SEND + 7]
_send_sizes = st.one_of(st.sampled_from(_SEND_EDGES),
                        st.builds(lambda whole, part: whole * MAX_SEND + part, st.integers(0, 3), st.integers(1, 7)),
                        st.builds(lambda whole, part: whole * MAX_SEND + part, st.integers(0, 2),
                                  st.integers(1, MAX_SEND)))
send_payloads = _send_sizes.flatmap(lambda size: st.binary(min_size=size, max_size=size))


def _size_class(size: int) -> str:
    """The distribution hypothesis reports with --hypothesis-show-statistics."""
    chunks = -(-size // MAX_SEND)
    edge = " (a chunk boundary)" if size % MAX_SEND in (0, 1, MAX_SEND - 1) else ""
    return f"payload of {chunks} chunk{'s' if chunks > 1 else ''}{edge}"


@settings(max_examples=200, deadline=None)
@given(send_payloads, st.one_of(st.none(), st.integers(0, 4)))
def test_cipsend_framing_reassembles_exactly(payload, link_id):
    event(_size_class(len(payload)))
    chunks = frame_send(payload, link_id)
    assert b"".join(c.data for c in chunks) == payload
    for c in chunks:
        assert 1 <= len(c.data) <= MAX_SEND
        prefix = b"AT+CIPSEND=" + (b"%d," % link_id if link_id is not None else b"")
        assert c.command.line == prefix + b"%d\r\n" % len(c.data)


@settings(max_examples=300, deadline=None)
@given(st.lists(st.binary(max_size=200), max_size=60))
def test_garbage_never_raises_and_memory_stays_bounded(chunks):
    p = Parser(max_line=128, max_payload=2048)
    for chunk in chunks:
        for event in p.receive_data(chunk):
            assert isinstance(event, ev.Event)
        assert p.pending <= 128 + 2048 + 200
