"""The golden corpus replayed: the fake must answer every exchange byte for byte, however the host's bytes are cut,
and the parser must read every module side to the same events, however it is cut.

With ESPAT_TEST_PORT set (a pyserial URL) the exchanges that need no loopback server and no fault are replayed
against the real module on that port instead, from the corpus folder ESPAT_TEST_DIALECT names (1.7 by default).
"""
from __future__ import annotations

import os

import pytest
from hypothesis import given, settings, strategies as st

from espat import events as ev
from golden.corpus import DIALECTS, ROOT, chain, load_dialect
from golden.replay import (bytewise, cut, module_stream, parse_module_side, replay_fake, replay_port,
                           runs_on_a_real_module, whole)

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


@pytest.mark.parametrize("dialect, name", CASES)
@settings(max_examples=40, deadline=None)
@given(points=cut_points)
def test_parser_reads_the_module_side_in_any_cuts(dialect, name, points):
    exchange, corpus = CORPUS[dialect][name], CORPUS[dialect]
    stream = module_stream(exchange, corpus)
    at_once = parse_module_side(exchange, corpus, [stream])
    assert at_once, f"{dialect}/{name}: no event at all from {len(stream)} bytes"
    if not any(item.noisy for item in [exchange] + chain(exchange, corpus)):
        assert not [e for e in at_once if isinstance(e, (ev.Noise, ev.LineTooLong))], (
            f"{dialect}/{name}: the firmware's own bytes read as noise: {at_once}")
    assert parse_module_side(exchange, corpus, bytewise(0, stream)) == at_once
    assert parse_module_side(exchange, corpus, cut(stream, points)) == at_once


def test_every_exchange_names_its_evidence():
    for dialect, exchanges in CORPUS.items():
        for name, exchange in exchanges.items():
            for line in exchange.evidence:
                assert "http" in line or "/" in line, f"{dialect}/{name}: evidence names no URL or path: {line}"


def test_pending_exchanges_parse_but_are_not_replayed():
    pending = ROOT / "pending"
    for folder in [p for p in pending.iterdir() if p.is_dir()] if pending.is_dir() else []:
        assert load_dialect(folder.name, pending) is not None


@pytest.mark.parametrize("name", ["at-echo", "gmr", "cwjap-cur-query", "cwjap-cur-no-ap"])
def test_the_real_module_path_replays_against_a_port(name):
    """The path ESPAT_TEST_PORT takes (reset, serial reads with timeouts), through pyserial to the fake's sim://."""
    import esp8266sim  # noqa: F401  (registers sim://)
    url = "sim://?network=HomeNet:s3cr3t99&network=Elsewhere:&latency_scale=0"
    replay_port(url, CORPUS["1.7"][name], CORPUS["1.7"], whole)
    replay_port(url, CORPUS["1.7"][name], CORPUS["1.7"], bytewise)
