"""The test suite's wall time: one process against scripts/test.sh's workers, measured in the same run.

Goal (issue 17): the whole suite <= 5 min on a 2-core machine, the edit loop's tier (`-m "not slow"`) <= 60 s.
The machine may be shared, so the figure that carries over is the ratio; the load average before and after is
printed with it. Arguments go to pytest, e.g. `python bench/suite_time.py -m "not slow"`; `--parallel-only` skips
the one-process run (the wall time of the workers alone, for the goal).

    python bench/suite_time.py [--parallel-only] [pytest arguments]
    python bench/suite_time.py --per-folder [--top N] [pytest arguments]

`--per-folder` runs each folder of tests/ on its own in one process (`-n 0`), one after the other, and prints its
wall and CPU seconds (pytest and its children) and the load; with `--top N` each folder's N test phases that spent
the most CPU (tests/cpu_profile.py). One process at a time: the machine is shared.
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


def run(workers: str, args: list, show: bool = False) -> tuple:
    """(wall seconds, CPU seconds of pytest and its children, pytest's summary line); `show`: print the CPU
    profile's section (tests/cpu_profile.py) too."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.monotonic()
    done = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-n", workers,
                           "--dist", "loadgroup", *args], cwd=ROOT, capture_output=True, text=True)
    wall = time.monotonic() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    summary = next((line for line in reversed(done.stdout.splitlines()) if re.search(r"\d+ (passed|failed)", line)),
                   done.stdout.strip().splitlines()[-1] if done.stdout.strip() else done.stderr.strip()[-200:])
    lines = done.stdout.splitlines()
    if show:
        start = next((i for i, line in enumerate(lines) if "CPU per test phase" in line), len(lines))
        end = next((i for i in range(start + 1, len(lines)) if lines[i].startswith("=")), len(lines))
        print("\n".join(f"  {line}" for line in lines[start:end]))
    for line in lines:
        if line.startswith(("FAILED ", "ERROR ")):
            print(f"  {line}")
    return wall, cpu, summary.strip("= ")


def per_folder(args: list) -> int:
    top = "0"
    if "--top" in args:
        at = args.index("--top")
        top = args[at + 1]
        del args[at:at + 2]
    folders = sorted(p.name for p in (ROOT / "tests").iterdir() if p.is_dir() and any(p.glob("test_*.py")))
    print(f"cores {os.cpu_count()}, one process per folder, pytest {' '.join(args) or '(all)'}")
    total_wall = total_cpu = 0.0
    for folder in folders:
        load = os.getloadavg()[0]
        os.environ["ESPAT_TEST_CPU"] = top
        wall, cpu, summary = run("0", [*args, f"tests/{folder}"], show=int(top) > 0)
        total_wall, total_cpu = total_wall + wall, total_cpu + cpu
        print(f"{folder:10s} {wall:7.1f} s wall {cpu:7.1f} s CPU  load {load:5.2f}-{os.getloadavg()[0]:5.2f}  {summary}")
    print(f"{'all':10s} {total_wall:7.1f} s wall {total_cpu:7.1f} s CPU")
    return 0


def main() -> int:
    args = sys.argv[1:]
    if "--per-folder" in args:
        return per_folder([a for a in args if a != "--per-folder"])
    parallel_only = "--parallel-only" in args
    args = [a for a in args if a != "--parallel-only"]
    workers = os.environ.get("ESPAT_TEST_WORKERS", str(min(32, 4 * (os.cpu_count() or 1))))
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
