"""The fake module's reader of a command line, and the client's builders read back through it: what the client
escapes, the module (as the fake reads it, written apart from espat.proto.commands) takes back unchanged."""
from __future__ import annotations

import pytest
from hypothesis import given, settings, strategies as st

from esp8266sim.atline import LineError, read_line
from espat.proto.commands import join


@pytest.mark.parametrize("line, name, form, args", [
    (b"AT", "", "exec", ()),
    (b"ATE0", "E0", "exec", ()),
    (b"AT+GMR", "GMR", "exec", ()),
    (b"AT+CWMODE_CUR?", "CWMODE_CUR", "query", ()),
    (b"AT+CWMODE_CUR=?", "CWMODE_CUR", "test", ()),
    (b'AT+CIPSTART=4,"TCP","example.com",80', "CIPSTART", "set", (4, "TCP", "example.com", 80)),
    (b"AT+CIPSEND=4,-1", "CIPSEND", "set", (4, -1)),
    (b"AT+CWLAPOPT=1,,2", "CWLAPOPT", "set", (1, None, 2)),      # an empty middle argument keeps its default
])
def test_a_line_to_its_parts(line, name, form, args):
    parsed = read_line(line)
    assert (parsed.name, parsed.form, parsed.args) == (name, form, args)


@pytest.mark.parametrize("line", [b"at", b"AT+", b"AT+X=", b"AT+X=1,", b'AT+X="a', b"AT+X=abc", b'AT+X="a"b',
                                  b"\xffAT"])
def test_what_the_module_refuses(line):
    with pytest.raises(LineError):
        read_line(line)


_ARG_TEXT = st.text(st.characters(blacklist_characters="\r\n\0", blacklist_categories=("Cs",)), max_size=20)


@settings(max_examples=300, deadline=None)
@given(_ARG_TEXT.filter(lambda s: 0 < len(s.encode()) <= 32), _ARG_TEXT.filter(lambda s: len(s.encode()) <= 64))
def test_escaping_round_trips_through_the_modules_reader(ssid, password):
    line = join(ssid, password).line
    assert line.endswith(b"\r\n") and b"\r" not in line[:-2] and b"\n" not in line[:-2]
    parsed = read_line(line[:-2])
    assert parsed.name == "CWJAP_CUR" and parsed.form == "set"
    assert parsed.args == (ssid, password)
