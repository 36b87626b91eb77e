"""The reporter through a simulated week in the field (week.py): issue 15's pass criteria, measured on the host-native
firmware, the fake ESP-01 and espat collect on one virtual clock. The same seed is the same week."""
from __future__ import annotations

import pytest

from week import FieldWeek, report

SEED = 15


def _phase(result, name):
    return next(p for p in result.phases if p.name == name)


def _statuses(field, phase):
    return [a.status for a in field.collector.answers if phase.start <= a.at < phase.end]


@pytest.mark.slow
def test_a_week_in_the_field(capsys):
    field = FieldWeek(SEED, days=7)
    result = field.run()
    report(result)
    print(capsys.readouterr().out)          # the week's figures, in the test's log
    # every fault fired
    assert _statuses(field, _phase(result, "server-down")) == [], "the server answered while it was down"
    assert 429 in _statuses(field, _phase(result, "rate-limited"))
    assert 403 in _statuses(field, _phase(result, "token-rotated"))
    wedged = _phase(result, "tcp-wedged")
    first_reset = min((c.at for c in field.board.commands if wedged.start <= c.at < wedged.end and c.line == b"AT+RST"),
                      default=wedged.end)
    # (a request already under way when the stack wedged may still be answered in its first half minute)
    assert not [a for a in field.collector.answers if wedged.start + 30 <= a.at < first_reset], \
        "a link opened while the stack was wedged"
    brown = _phase(result, "brown-out")
    assert any(brown.start <= t < brown.end for t in field.esp_reboots)
    assert any(r.ended and r.ended.reason == "cut" for r in field.board.runs), "no power cut in an EEPROM write"
    # issue 15's criteria, each with its figure
    assert result.failed == [], "\n".join(result.failed)
