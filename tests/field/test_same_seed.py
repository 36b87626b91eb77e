"""The field week is a function of its seed: two runs of the same seed send the same bytes at the same virtual
times and get the same answers, however loaded the machine is (no wall-clock time enters the simulation)."""
from __future__ import annotations

import pytest

from scenario import HOUR
from week import FieldWeek

# 2.7 s of CPU on its own (seven simulated hours twice), 4-17 s beside the rest of the tier: tests/README.md, "Tiers"
pytestmark = pytest.mark.slow


def test_the_same_seed_is_the_same_day():
    """Seven hours through the start of the server outage, twice: the same bytes at the same virtual times."""
    runs = []
    for _ in range(2):
        field = FieldWeek(3, days=0.3)
        field.run()
        runs.append(([(c.at, c.line) for c in field.board.commands],
                     [(a.at, a.status, a.body) for a in field.collector.answers]))
    assert runs[0] == runs[1]
    assert len(runs[0][1]) > 5 * 60 and max(at for at, _ in runs[0][0]) > 6 * HOUR
