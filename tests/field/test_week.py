"""The reporter through a simulated week in the field (week.py): issue 15's pass criteria, measured on the host-native
firmware, the fake ESP-01 and espat collect on one virtual clock. The same seed is the same week."""
from __future__ import annotations

import pytest

from week import FieldWeek, report

SEED = 15


def _statuses(result, collector, name):
    phase = next(p for p in result.phases if p.name == name)
    return [a.status for a in collector.answers if phase.start <= a.at < phase.end]


@pytest.mark.slow
def test_a_week_in_the_field(capsys):
    field = FieldWeek(SEED, days=7)
    result = field.run()
    report(result)
    print(capsys.readouterr().out)          # the week's figures, in the test's log
    # every fault fired
    assert not _statuses(result, field.collector, "server-down"), "the server answered while it was down"
    assert 429 in _statuses(result, field.collector, "rate-limited")
    assert 403 in _statuses(result, field.collector, "token-rotated")
    assert field.collector.requests and result.traffic[
        next(f"{p.name}@{p.start:.0f}" for p in result.phases if p.name == "brown-out")]["esp_reboots"] > 0
    assert any(r.ended and r.ended.reason == "cut" for r in field.board.runs), "no power cut in an EEPROM write"
    # issue 15's criteria, each with its figure
    assert result.failed == [], "\n".join(result.failed)
