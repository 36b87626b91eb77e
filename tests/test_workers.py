"""The suite's worker rules hold (tests/conftest.py, tests/workers.py): a module-scoped fixture is made once per run
on pytest-xdist workers, a shared artefact once for all workers, and a shared build folder is held by one worker at a
time. Checked by running this file's probes in a pytest of their own on two workers: a pytest or xdist version that
stops grouping fails here, not by builds made twice elsewhere."""
from __future__ import annotations

import os
import re
import subprocess
import sys
import time
from pathlib import Path

import pytest

from workers import shared_artifact, shared_workdir

ROOT = Path(__file__).resolve().parents[1]
PROBE = os.environ.get("ESPAT_WORKER_PROBE")     # set only in the inner run: where the probes write what they made


def _note(what: str) -> None:
    if PROBE:
        with open(PROBE, "a") as f:
            f.write(f"{what} {os.environ.get('PYTEST_XDIST_WORKER', 'main')}\n")


@pytest.fixture(scope="module")
def made_once_per_module():
    _note("module-fixture")


@pytest.fixture
def artefact(tmp_path_factory):
    return shared_artifact(tmp_path_factory, "probe", lambda folder: _note("artefact"))


@pytest.mark.parametrize("n", range(6))
def test_probe_module_fixture(made_once_per_module, artefact, n):
    assert artefact.is_dir()


@pytest.mark.parametrize("n", range(6))
def test_probe_independent(artefact, n):
    assert artefact.is_dir()


@pytest.mark.parametrize("n", range(6))
def test_probe_workdir(tmp_path_factory, n):
    with shared_workdir(tmp_path_factory, "probe") as folder:
        _note(f"workdir-in {folder}")
        time.sleep(0.05)        # long enough for another worker's hold to land inside this one, were it let in
        _note(f"workdir-out {folder}")


@pytest.mark.slow
def test_a_module_fixture_and_a_shared_artefact_are_made_once_on_two_workers(tmp_path):
    probe = tmp_path / "made.txt"
    done = subprocess.run([sys.executable, "-m", "pytest", "-v", "-p", "no:cacheprovider", "-n", "2",
                           "--dist", "loadgroup", "-k", "probe", str(Path(__file__))],
                          cwd=ROOT, env={**os.environ, "ESPAT_WORKER_PROBE": str(probe)}, capture_output=True,
                          text=True, timeout=300)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-2000:]
    made = probe.read_text().splitlines()
    assert [m.split()[0] for m in made].count("module-fixture") == 1, made
    assert [m.split()[0] for m in made].count("artefact") == 1, made
    grouped = set(re.findall(r"\[(gw\d)\][^\n]*PASSED[^\n]*test_probe_module_fixture", done.stdout))
    spread = set(re.findall(r"\[(gw\d)\][^\n]*PASSED[^\n]*test_probe_independent", done.stdout))
    assert len(grouped) == 1, done.stdout           # all six on one worker
    assert grouped and spread, done.stdout          # and the others free to go anywhere (both ran)
    held = [m.split() for m in made if m.startswith("workdir")]
    assert [h[0] for h in held] == ["workdir-in", "workdir-out"] * 6, made      # one holder at a time
    assert len({h[1] for h in held}) == 1, made                                 # the same folder for every worker
