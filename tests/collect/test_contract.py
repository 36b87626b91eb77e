"""The reading contract (host/espat/collect/contract.json) as the collector keeps it: the validator takes its rules
from the file, a repeat key with other sampled fields is a 409, a reading's age puts it at the time it was taken,
the board's diagnostic counters are stored and given back, and every answer means to the board what the contract
says it means. On SQLite and PostgreSQL alike."""
import csv
import io
import json
import re

import pytest

from espat.collect import contract
from espat.collect.reading import Rejected, parse_reading

from collect_http import body, post, reading, request, stored

DIAG = {"reset_cause": 4, "esp_reboots": 2, "wifi_joins": 3, "link_failures": 17}


def with_extras(age_ms=None, diag=None, **kw) -> dict:
    data = reading(**kw)
    if age_ms is not None:
        data["age_ms"] = age_ms
    if diag is not None:
        data["diag"] = diag
    return data


def test_the_validator_takes_the_device_rule_and_fields_from_the_contract():
    raw = json.loads(contract.PATH.read_text())
    assert contract.DEVICE_RE.pattern == raw["device"]["pattern"]
    assert (contract.REQUIRED, contract.OPTIONAL) == (tuple(raw["required"]), tuple(raw["optional"]))
    # the rule's edges, as the contract's pattern draws them
    for name, ok in [("a" * 32, True), ("a" * 33, False), ("my greenhouse", False), ("gewächshaus", False),
                     ("-lead", False), ("Uno.1_b-2", True)]:
        assert bool(re.fullmatch(raw["device"]["pattern"], name)) is ok
        try:
            parse_reading(body(reading(device=name)))
            taken = True
        except Rejected as exc:
            assert str(exc) == f"device must be {raw['device']['rule']}"
            taken = False
        assert taken is ok, name
    for name in raw["required"]:
        with pytest.raises(Rejected, match=f"missing {name}"):
            parse_reading(body({k: v for k, v in with_extras(1, DIAG).items() if k != name}))
    r = parse_reading(body(with_extras(1500, DIAG)))
    assert (r.age_ms, r.diag) == (1500, DIAG)


def test_a_contract_that_makes_no_sense_is_refused(tmp_path):
    raw = json.loads(contract.PATH.read_text())
    for broken, words in [({**raw, "sampled": ["uptime_ms", "age_ms"]}, "sampled"),
                          ({**raw, "status": {**raw["status"], "409": "retry"}}, "409"),
                          ({**raw, "optional": ["age_ms", "diag", "seq"]}, "both required and optional")]:
        path = tmp_path / "contract.json"
        path.write_text(json.dumps(broken))
        with pytest.raises(contract.ContractError, match=words):
            contract.load(path)


@pytest.mark.parametrize("extra, status, words", [
    ({"age_ms": -1}, 422, "age_ms -1 is outside"),
    ({"age_ms": 2**32}, 422, "age_ms"),
    ({"age_ms": "5"}, 400, "age_ms must be an integer"),
    ({"diag": [1]}, 400, "diag must be an object"),
    ({"diag": {"reset_cause": 1, "uptime": 3}}, 400, "unknown diag 'uptime'"),
    ({"diag": {"esp_reboots": 1.5}}, 400, "diag.esp_reboots must be an integer"),
    ({"diag": {"wifi_joins": 2**32}}, 422, "diag.wifi_joins"),
])
def test_the_optional_fields_are_checked_like_the_rest(extra, status, words):
    with pytest.raises(Rejected) as info:
        parse_reading(body({**reading(), **extra}))
    assert info.value.status == status and words in str(info.value)


def test_a_repeat_key_with_other_sampled_fields_is_a_409_and_changes_nothing(collector):
    first = post(collector.url, with_extras(0, DIAG))
    assert first.status == 201
    # what belongs to the send may differ between two sends of one reading: a repeat
    again = post(collector.url, with_extras(90_000, {**DIAG, "link_failures": 40}, dropped=5))
    assert again.status == 200 and again.json()["repeat"] is True
    # what was sampled may not: the key names another reading (a torn boot counter, a reused incarnation)
    for other, words in [(reading(values={"a0_c": 99.0, "chip_c": 30.1, "vcc_mv": 4980}),
                          "readings.a0_c is 99.0, the stored reading's is 21.5"),
                         (reading(uptime_ms=1234), "uptime_ms is 1234, the stored reading's is 60012")]:
        answer = post(collector.url, other)
        assert answer.status == 409, answer
        reason = answer.json()["error"]
        assert reason == f"key greenhouse-uno-1/1a2b3c4d/3/17 names another reading: {words}"
        assert "\n" not in reason
    rows = stored(collector.url)
    assert len(rows) == 1 and rows[0]["id"] == first.json()["id"]
    assert (rows[0]["readings"]["a0_c"], rows[0]["uptime_ms"], rows[0]["diag"]) == (21.5, 60012, DIAG)


def test_age_puts_the_reading_at_the_time_it_was_taken(collector):
    assert post(collector.url, with_extras(3_600_000, seq=1)).status == 201     # an hour in the board's queue
    assert post(collector.url, with_extras(0, seq=2, diag=DIAG)).status == 201
    assert post(collector.url, reading(seq=3)).status == 201                    # an older board: no age
    rows = {r["seq"]: r for r in stored(collector.url)}
    from datetime import datetime

    def seconds(stamp):
        return datetime.fromisoformat(stamp.replace("Z", "+00:00")).timestamp()

    late = rows[1]
    assert seconds(late["received_at"]) - seconds(late["taken_at"]) == pytest.approx(3600, abs=0.002)
    assert rows[2]["taken_at"] == rows[2]["received_at"] and rows[3]["taken_at"] == rows[3]["received_at"]
    assert "age_ms" not in rows[3] and "diag" not in rows[3] and rows[2]["diag"] == DIAG
    # the time filters are on when a reading was taken
    cut = rows[2]["taken_at"]
    assert [r["seq"] for r in stored(collector.url, f"?until={cut}")] == [1]
    assert sorted(r["seq"] for r in stored(collector.url, f"?since={cut}")) == [2, 3]
    table = list(csv.DictReader(io.StringIO(request(collector.url, "GET", "/api/readings?format=csv").data.decode())))
    assert [t["age_ms"] for t in table] == ["3600000", "0", ""]
    assert table[0]["taken_at"] == late["taken_at"] and table[1]["diag.link_failures"] == "17"
    gaps = request(collector.url, "GET", "/api/gaps?device=greenhouse-uno-1").json()["boots"]
    assert gaps[0]["first_at"] == late["taken_at"]


def test_every_answer_means_to_the_board_what_the_contract_says(collector):
    """The firmware acts on the contract's table; the collector's answers for each situation must agree."""
    situations = [
        (reading(seq=1), "stored"),
        (reading(seq=1), "repeat"),
        (reading(seq=1, uptime_ms=1), "conflict"),
        (body(reading(seq=2))[:-1], "drop"),                                     # not JSON
        (reading(seq=2, values={"a0_c": -300.0}), "drop"),                       # no sensor gives it
        (b" " * 2000, "drop"),                                                   # too big
    ]
    for sent, meant in situations:
        answer = post(collector.url, sent)
        assert contract.meaning(answer.status) == meant, (answer, meant)
    assert contract.meaning(503) == "backoff" and contract.meaning(429) == "backoff"
    assert contract.meaning(401) == contract.meaning(403) == "keep"


def test_the_unit_table_gives_each_suffix_its_unit_and_range():
    raw = json.loads(contract.PATH.read_text())["units"]
    assert contract.unit_of("a0_c")[:2] == ("_c", "°C") and contract.unit_of("vcc_mv")[:2] == ("_mv", "mV")
    assert contract.unit_of("loop_ms")[0] == "_ms" and contract.unit_of("count") is None
    for suffix, u in raw.items():
        low, high = u["range"]
        parse_reading(body(reading(values={f"x{suffix}": low, f"y{suffix}": high})))
        with pytest.raises(Rejected) as info:
            parse_reading(body(reading(values={f"x{suffix}": high + abs(high) * 0.01 + 1})))
        assert info.value.status == 422


def test_the_collector_serves_its_contract_and_an_icon(collector):
    served = request(collector.url, "GET", "/api/contract")
    assert served.status == 200 and served.json() == json.loads(contract.PATH.read_text())
    icon = request(collector.url, "GET", "/favicon.ico")
    assert icon.status == 200 and icon.headers["content-type"].startswith("image/svg+xml")
    assert icon.data.startswith(b"<svg")
