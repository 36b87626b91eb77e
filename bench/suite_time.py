"""The test suite's wall time: one process against scripts/test.sh's workers, measured in the same run.

Goal (issue 17): the whole suite <= 5 min on a 2-core machine, the edit loop's tier (`-m "not slow"`) <= 60 s.
The machine may be shared, so the figure that carries over is the ratio; the load average before and after is
printed with it. Arguments go to pytest, e.g. `python bench/suite_time.py -m "not slow"`; `--parallel-only` skips
the one-process run (the wall time of the workers alone, for the goal).

    python bench/suite_time.py [--parallel-only] [pytest arguments]
"""
from __future__ import annotations

import os
import re
import resource
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def run(workers: str, args: list) -> tuple:
    """(wall seconds, CPU seconds of pytest and its children, pytest's summary line)."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.monotonic()
    done = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-n", workers,
                           "--dist", "loadgroup", *args], cwd=ROOT, capture_output=True, text=True)
    wall = time.monotonic() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    summary = next((line for line in reversed(done.stdout.splitlines()) if re.search(r"\d+ (passed|failed)", line)),
                   done.stdout.strip().splitlines()[-1] if done.stdout.strip() else done.stderr.strip()[-200:])
    for line in done.stdout.splitlines():
        if line.startswith(("FAILED ", "ERROR ")):
            print(f"  {line}")
    return wall, cpu, summary.strip("= ")


def main() -> int:
    args = sys.argv[1:]
    parallel_only = "--parallel-only" in args
    args = [a for a in args if a != "--parallel-only"]
    workers = os.environ.get("ESPAT_TEST_WORKERS", str(2 * (os.cpu_count() or 1)))
    print(f"cores {os.cpu_count()}, workers {workers}, load before {os.getloadavg()[0]:.2f}, "
          f"pytest {' '.join(args) or '(all)'}")
    wall_n, cpu_n, summary_n = run(workers, args)
    print(f"{workers} workers: {wall_n:7.1f} s wall, {cpu_n:7.1f} s CPU   {summary_n}")
    if not parallel_only:
        wall_1, cpu_1, summary_1 = run("0", args)
        print(f"1 process:  {wall_1:7.1f} s wall, {cpu_1:7.1f} s CPU   {summary_1}")
        print(f"ratio one process / workers: {wall_1 / wall_n:.2f}")
    print(f"load after {os.getloadavg()[0]:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
