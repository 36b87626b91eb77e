"""CPU seconds per test phase, to find what makes the suite long (tests/README.md, "Measuring").

With `ESPAT_TEST_CPU=N` in the environment, every setup, call and teardown records the CPU its own process spent
(all its threads) plus what its waited-for children spent (pio, avr-gcc, simavr's uno_harness, native board
binaries, `espat` subprocesses): the deltas of getrusage(RUSAGE_SELF) and getrusage(RUSAGE_CHILDREN) around it.
The run ends with the N phases that spent the most, and the sum per folder. Without the variable nothing is
hooked. Run it on one folder at a time, in one process (`-n 0`): a background thread of one test (a fake module, a
server) is counted in whichever phase runs while it spins.
"""
from __future__ import annotations

import os
import resource
import time
from collections import defaultdict

import pytest

TOP = int(os.environ.get("ESPAT_TEST_CPU", "0") or 0)


def _cpu() -> tuple:
    own = resource.getrusage(resource.RUSAGE_SELF)
    kids = resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime, kids.ru_utime + kids.ru_stime


def _measured(phase: str):
    @pytest.hookimpl(hookwrapper=True)
    def hook(item, *args):
        own0, kids0 = _cpu()
        start = time.monotonic()
        yield
        own1, kids1 = _cpu()
        item.user_properties.append(("cpu", (phase, own1 - own0, kids1 - kids0, time.monotonic() - start)))
    return hook


if TOP:
    pytest_runtest_setup = _measured("setup")
    pytest_runtest_call = _measured("call")
    pytest_runtest_teardown = _measured("teardown")

    _phases: list = []

    def pytest_runtest_logreport(report):
        # the report of each phase carries the item's properties so far; take the one this phase added
        for name, value in report.user_properties:
            if name == "cpu" and value[0] == report.when:
                _phases.append((report.nodeid, *value))

    def pytest_terminal_summary(terminalreporter):
        write = terminalreporter.write_line
        seen = {}
        for nodeid, phase, own, kids, wall in _phases:
            seen[(nodeid, phase)] = (own, kids, wall)
        rows = sorted(seen.items(), key=lambda row: -(row[1][0] + row[1][1]))
        total_own = sum(v[0] for v in seen.values())
        total_kids = sum(v[1] for v in seen.values())
        terminalreporter.section(f"CPU per test phase (top {TOP}; own + children = total, wall)")
        write(f"all phases: {total_own:.1f} s own + {total_kids:.1f} s children = {total_own + total_kids:.1f} s")
        for (nodeid, phase), (own, kids, wall) in rows[:TOP]:
            write(f"{own + kids:7.2f} s = {own:6.2f} + {kids:6.2f}  {wall:6.1f} s wall  {phase:8s} {nodeid}")
        folders = defaultdict(lambda: [0.0, 0.0])
        for (nodeid, _), (own, kids, wall) in seen.items():
            folder = nodeid.split("::", 1)[0].rsplit("/", 1)[0]
            folders[folder][0] += own + kids
            folders[folder][1] += wall
        for folder, (cpu, wall) in sorted(folders.items(), key=lambda kv: -kv[1][0]):
            write(f"{cpu:8.1f} s CPU {wall:8.1f} s wall  {folder}")
