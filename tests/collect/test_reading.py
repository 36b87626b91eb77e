"""The body check on its own: each malformed or out-of-range field gets its status and a message naming it."""
import json
import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from espat.collect.contract import unit_of
from espat.collect.reading import MAX_BODY, Rejected, parse_reading

from collect_http import body, reading


def refused(data) -> Rejected:
    with pytest.raises(Rejected) as info:
        parse_reading(data if isinstance(data, bytes) else body(data))
    return info.value


def test_the_contract_example_is_taken_as_is():
    raw = (b'{"device":"greenhouse-uno-1","incarnation":"1a2b3c4d","boot":3,"seq":17,"uptime_ms":60012,'
           b'"readings":{"a0_c":21.5,"chip_c":30.1,"vcc_mv":4980},"dropped":0}')
    r = parse_reading(raw)
    assert r.key == ("greenhouse-uno-1", "1a2b3c4d", 3, 17)
    assert body(r.to_json()) == raw          # same keys, same order, same numbers


@pytest.mark.parametrize("raw, status, words", [
    (b"", 400, "not JSON"),
    (b'{"device":', 400, "not JSON"),
    (b"\xff\xfe", 400, "UTF-8"),
    (b"[1,2]", 400, "not an object"),
    (body({k: v for k, v in reading().items() if k != "dropped"}), 400, "missing dropped"),
    (body({**reading(), "extra": 1}), 400, "unknown 'extra'"),
    (b'{"device":"a","device":"b"}', 400, "twice"),
    (body(reading(device="x'; DROP TABLE readings;--")), 400, "device must be"),
    (body(reading(device="")), 400, "device must be"),
    (body(reading(incarnation="1A2B3C4D")), 400, "incarnation"),
    (body(reading(seq="17")), 400, "seq must be an integer"),
    (body(reading(boot=True)), 400, "boot must be an integer"),
    (body(reading(seq=1.5)), 400, "seq must be an integer"),
    (body(reading(values=[])), 400, "readings must be an object"),
    (body(reading(values={})), 400, "1 to 16"),
    (body(reading(values={"Robert'); DROP TABLE readings;--": 1})), 400, "name"),
    (body(reading(values={"a0_c": "21.5"})), 400, "must be a number"),
    (body(reading(values={"a0_c": None})), 400, "must be a number"),
    (body(reading(seq=-1)), 422, "outside 0..4294967295"),
    (body(reading(uptime_ms=2**32)), 422, "outside"),
    (body(reading(values={"a0_c": -300})), 422, "a0_c -300"),
    (body(reading(values={"vcc_mv": -5})), 422, "vcc_mv"),
    (b'{"device":"d","incarnation":"1a2b3c4d","boot":1,"seq":1,"uptime_ms":1,"readings":{"a0_c":NaN},"dropped":0}',
     422, "NaN"),
    (b'{"device":"d","incarnation":"1a2b3c4d","boot":1,"seq":1,"uptime_ms":1,"readings":{"a0_c":-Infinity},'
     b'"dropped":0}', 422, "-Infinity"),
    (b'{"device":"d","incarnation":"1a2b3c4d","boot":1,"seq":1,"uptime_ms":1,"readings":{"a0_c":1e999},"dropped":0}',
     422, "inf"),
    (b'{"device":"d","incarnation":"1a2b3c4d","boot":1,"seq":1e999,"uptime_ms":1,"readings":{"a0_c":1},"dropped":0}',
     422, "seq is inf"),
    (b" " * (MAX_BODY + 1), 413, "limit"),
])
def test_each_fault_has_its_status_and_says_what(raw, status, words):
    exc = refused(raw)
    assert exc.status == status
    assert words in str(exc)


names = st.from_regex(r"[a-z][a-z0-9_]{0,8}", fullmatch=True).filter(lambda n: unit_of(n) is None)


@given(device=st.from_regex(r"[A-Za-z0-9][A-Za-z0-9._-]{0,31}", fullmatch=True),
       incarnation=st.from_regex(r"[0-9a-f]{8}", fullmatch=True),
       counters=st.tuples(*[st.integers(0, 2**32 - 1)] * 4),
       values=st.dictionaries(names, st.floats(-1e12, 1e12, allow_nan=False) | st.integers(-10**12, 10**12),
                              min_size=1, max_size=16))
def test_every_valid_reading_round_trips(device, incarnation, counters, values):
    data = reading(device, incarnation, *counters[:3], values, counters[3])
    r = parse_reading(body(data))
    assert r.to_json() == data
    assert json.loads(json.dumps(r.to_json())) == data
    assert all(math.isfinite(v) for v in r.values.values())
