"""The edit loop's tier draws fewer property-test examples, the whole suite all of them (tests/tiers.py). Checked by
running this file's probe in a pytest of its own, once with `-m "not slow"` and once without: a hypothesis or pytest
version that stops the scaling, or scales the whole suite, fails here."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import given, settings, strategies as st

from tiers import FAST_TIER_SHARE, leaves_out_the_slow_tier

ROOT = Path(__file__).resolve().parents[1]
PROBE = os.environ.get("ESPAT_TIER_PROBE")      # set only in the inner run: where the probe counts its examples


@pytest.mark.parametrize("n", [1, 2])
@settings(max_examples=40, deadline=None, database=None)
@given(x=st.integers())
def test_probe_examples(n, x):
    if PROBE:
        with open(PROBE, "a") as f:
            f.write(f"{n}\n")


@pytest.mark.parametrize("expression, tier", [("not slow", True), ("not slow and not pg", True), ("", False),
                                              ("slow", False), ("pg", False), ("slow or not slow", False)])
def test_which_mark_expressions_are_the_edit_loops_tier(expression, tier):
    assert leaves_out_the_slow_tier(expression) is tier


@pytest.mark.slow
@pytest.mark.parametrize("args, fewest, most", [(["-m", "not slow"], 1, 40 // FAST_TIER_SHARE),
                                                ([], 40 // FAST_TIER_SHARE + 1, 40)])
def test_the_fast_tier_draws_a_share_of_the_examples_and_the_whole_suite_all(tmp_path, args, fewest, most):
    """Each parameter's example count (hypothesis may stop short of max_examples when it runs out of new ones)."""
    probe = tmp_path / "examples.txt"
    done = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-n", "0", *args,
                           "-k", "probe", str(Path(__file__))],
                          cwd=ROOT, env={**os.environ, "ESPAT_TIER_PROBE": str(probe)}, capture_output=True,
                          text=True, timeout=300)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-2000:]
    drawn = probe.read_text().split()
    assert all(fewest <= drawn.count(n) <= most for n in "12"), drawn
