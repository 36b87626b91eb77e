"""The reporter's back-off policy as a pure unit (firmware/src/reporter/backoff.cpp, compiled with g++ and driven by
tests/firmware/backoff_cases.cpp): exponential with jitter up to ESPAT_BACKOFF_MAX_MS (default 300000), back to
the start only when a reading is delivered, never sooner than a Retry-After. The issue's defect: the former policy
never passed 32 s and started over after every resync, so a day of server outage made ~26,000 connects.
Needs g++: a missing compiler fails these tests."""
import subprocess
from pathlib import Path

import pytest

import native_cc
from fw_native import ROOT

REPORTER = ROOT / "firmware" / "src" / "reporter"
CASES = Path(__file__).resolve().parent / "backoff_cases.cpp"


def build(*flags):
    return native_cc.program("backoff", ["-std=gnu++11", "-Wall", *flags, f"-I{REPORTER}"],
                             [CASES, REPORTER / "backoff.cpp"])


@pytest.fixture(scope="module")
def policy():
    binary = build()
    return lambda *events: [int(x) for x in subprocess.run([str(binary), *events], capture_output=True, text=True,
                                                            check=True).stdout.split()]


def test_pauses_double_within_their_jitter_up_to_the_cap(policy):
    pauses = policy(*["f"] * 30)
    for n, pause in enumerate(pauses, 1):
        ceiling = min(1000 * 2 ** (n - 1), 300000)
        assert ceiling - ceiling // 8 <= pause <= ceiling, (n, pause)
    assert max(pauses) > 290000 and min(pauses[12:]) >= 262500


def test_jitter_differs_between_boards_and_tries(policy):
    one, other = policy("s:1", *["f"] * 12), policy("s:2", *["f"] * 12)
    assert one != other
    late = policy(*["f"] * 40)[20:]  # all at the cap: still spread
    assert len(set(late)) > 10


def test_only_a_delivered_reading_starts_over(policy):
    pauses = policy("f", "f", "f", "f", "d", "f")
    assert pauses[3] >= 4000 and pauses[4] <= 1000


def test_a_day_of_outage_costs_a_few_hundred_tries(policy):
    """At the cap, a failing server is tried at most 24 × 3600 / 262.5 times a day (the pause is 262.5 to 300 s);
    the former jitter (half to all of the ceiling) let 24 through in an hour."""
    pauses, total = policy(*["f"] * 1000), 0
    tries = next(i for i, _ in enumerate(pauses, 1) if (total := total + pauses[i - 1]) >= 86400000)
    assert tries <= 330, tries
    in_an_hour_after_10_minutes = sum(1 for t in __import__("itertools").accumulate(pauses) if 600000 <= t < 4200000)
    assert in_an_hour_after_10_minutes <= 15


def test_a_reset_does_not_start_the_pauses_over(policy):
    """The field week's server outage with a power cut in its middle: the former reporter began again at 1 s after
    the reset, and the hour around it had 23 connects (15 allowed)."""
    pauses = policy(*["f"] * 12, "r", *["f"] * 5)
    assert min(pauses[12:]) >= 262500, pauses[12:]
    ramp = policy(*["f"] * 3, "r", "f")
    assert 7000 <= ramp[3] <= 8000       # the 4th failure's pause, after the reset as before it
    assert policy("f", "f", "d", "r", "f")[2] <= 1000    # delivered, then reset: from the start


def test_retry_after_is_honoured_and_bounded(policy):
    pauses = policy("f:120000", "f", "f:999999999")
    assert pauses[0] == 120000  # longer than the jittered first pause: the server's wins
    assert pauses[1] <= 2000    # the next failure's own
    assert pauses[2] == 3600000  # an absurd Retry-After is taken as an hour


def test_the_cap_is_a_setting():
    binary = build("-DESPAT_BACKOFF_MAX_MS=60000UL")
    pauses = [int(x) for x in subprocess.run([str(binary), *["f"] * 20], capture_output=True, text=True,
                                             check=True).stdout.split()]
    assert max(pauses) <= 60000 and pauses[-1] >= 30000
