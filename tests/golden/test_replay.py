"""The golden corpus replayed: the fake must answer every exchange byte for byte, however the host's bytes are cut,
and the parser must read every module side to the same events, however it is cut.

With ESPAT_TEST_PORT set (a pyserial URL) the exchanges that need no loopback server and no fault are replayed
against the real module on that port instead, from the corpus folder ESPAT_TEST_DIALECT names (1.7 by default).
"""
from __future__ import annotations

import functools
import os

import pytest
from hypothesis import given, settings, strategies as st

from espat.proto import events as ev
from golden.corpus import DIALECTS, ROOT, chain, load_dialect
from golden.replay import (bytewise, cut, module_stream, parse_module_side, replay_fake, replay_port,
                           runs_on_a_real_module, server_sends, whole)

REAL_PORT = os.environ.get("ESPAT_TEST_PORT")
CORPUS = {dialect: load_dialect(dialect) for dialect in DIALECTS}


def _cases():
    if REAL_PORT:
        dialect = os.environ.get("ESPAT_TEST_DIALECT", "1.7")
        return [pytest.param(dialect, name, id=f"{dialect}/{name}") for name, exchange in CORPUS[dialect].items()
                if runs_on_a_real_module(exchange, CORPUS[dialect])]
    return [pytest.param(dialect, name, id=f"{dialect}/{name}")
            for dialect, exchanges in CORPUS.items() for name in exchanges]


CASES = _cases()
cut_points = st.lists(st.integers(0, 1 << 16), max_size=12)


def test_both_dialects_have_a_corpus():
    for dialect in DIALECTS:
        assert len(CORPUS[dialect]) >= 10, f"tests/golden/{dialect} holds only {len(CORPUS[dialect])} exchanges"


@pytest.mark.parametrize("dialect, name", CASES)
def test_module_answers_whole(dialect, name):
    if REAL_PORT:
        replay_port(REAL_PORT, CORPUS[dialect][name], CORPUS[dialect], whole)
    else:
        replay_fake(CORPUS[dialect][name], CORPUS[dialect], whole)


@pytest.mark.parametrize("dialect, name", CASES)
def test_module_answers_byte_by_byte(dialect, name):
    if REAL_PORT:
        replay_port(REAL_PORT, CORPUS[dialect][name], CORPUS[dialect], bytewise)
    else:
        replay_fake(CORPUS[dialect][name], CORPUS[dialect], bytewise)


if not REAL_PORT:         # a real module's answers do not depend on how the host cut its bytes; the fake's might
    @pytest.mark.parametrize("dialect, name", CASES)
    @settings(max_examples=6, deadline=None)
    @given(points=st.lists(cut_points, min_size=1, max_size=8))
    def test_module_answers_in_any_cuts(dialect, name, points):
        replay_fake(CORPUS[dialect][name], CORPUS[dialect],
                    lambda step, data: cut(data, points[step % len(points)]))


@functools.lru_cache(maxsize=None)
def _read_at_once(dialect: str, name: str) -> tuple:
    """(the module side's bytes, the events read from them at once), checked: some event, no noise from the
    firmware's own bytes, the same events read byte by byte. None of it depends on the cuts, so each exchange's is
    read and checked once, not again for each of the cuts hypothesis draws (a failure is not kept: it is raised again)."""
    exchange, corpus = CORPUS[dialect][name], CORPUS[dialect]
    stream = module_stream(exchange, corpus)
    at_once = parse_module_side(exchange, corpus, [stream])
    assert at_once, f"{dialect}/{name}: no event at all from {len(stream)} bytes"
    if not any(item.noisy for item in [exchange] + chain(exchange, corpus)):
        assert not [e for e in at_once if isinstance(e, (ev.Noise, ev.LineTooLong))], (
            f"{dialect}/{name}: the firmware's own bytes read as noise: {at_once}")
    assert parse_module_side(exchange, corpus, bytewise(0, stream)) == at_once
    return stream, at_once


@pytest.mark.parametrize("dialect, name", CASES)
@settings(max_examples=40, deadline=None)
@given(points=cut_points)
def test_parser_reads_the_module_side_in_any_cuts(dialect, name, points):
    stream, at_once = _read_at_once(dialect, name)
    assert parse_module_side(CORPUS[dialect][name], CORPUS[dialect], cut(stream, points)) == at_once


def test_parser_hands_out_exactly_what_the_server_sent():
    """The payloads the parser reads out of +IPD and +CIPRECVDATA, joined, are what the loopback server sent
    (all of it or the part read so far): no byte lost, added or moved, whatever framing the dialect uses."""
    checked = 0
    for dialect, exchanges in CORPUS.items():
        for name, exchange in exchanges.items():
            sent = server_sends(exchange, exchanges)
            events = parse_module_side(exchange, exchanges, [module_stream(exchange, exchanges)])
            got = b"".join(e.data for e in events if isinstance(e, (ev.Ipd, ev.RecvData)))
            assert sent.startswith(got), f"{dialect}/{name}: the parser read {got!r}, the server sent {sent!r}"
            checked += bool(got)
    assert checked >= 10, f"only {checked} exchanges carry data from the server"


def test_every_exchange_names_its_evidence():
    for dialect, exchanges in CORPUS.items():
        for name, exchange in exchanges.items():
            for line in exchange.evidence:
                assert "http" in line or "/" in line, f"{dialect}/{name}: evidence names no URL or path: {line}"


PENDING = [pytest.param(folder.name, name, id=f"pending/{folder.name}/{name}")
           for folder in sorted((ROOT / "pending").glob("*")) if folder.name in DIALECTS
           for name in load_dialect(folder.name, ROOT / "pending")]


if not REAL_PORT and PENDING:
    @pytest.mark.parametrize("dialect, name", PENDING)
    def test_a_pending_exchange_is_one_the_fake_still_gets_wrong(dialect, name):
        """pending/ lists what the fake does not answer yet, each with its reason; one the fake answers belongs up
        in the corpus (README.md)."""
        path = ROOT / "pending" / dialect / f"{name}.golden"
        assert path.read_text(encoding="utf-8").startswith("# pending:"), f"{path.name} does not say why it waits"
        try:
            replay_fake(load_dialect(dialect, ROOT / "pending")[name], CORPUS[dialect], whole)
        except AssertionError:
            return
        raise AssertionError(f"the fake now answers pending/{dialect}/{name}: move it to tests/golden/{dialect}/ "
                             f"and drop its '# pending:' note")


@pytest.mark.parametrize("name", ["at-echo", "gmr", "cifsr", "cwjap-cur-no-ap"])
def test_the_real_module_path_replays_against_a_port(name):
    """The path ESPAT_TEST_PORT takes (reset, serial reads with timeouts), through pyserial to the fake's sim://."""
    import esp8266sim  # noqa: F401  (registers sim://)
    url = "sim://?network=HomeNet:s3cr3t99&network=Elsewhere:&latency_scale=0"
    replay_port(url, CORPUS["1.7"][name], CORPUS["1.7"], whole)
    replay_port(url, CORPUS["1.7"][name], CORPUS["1.7"], bytewise)
