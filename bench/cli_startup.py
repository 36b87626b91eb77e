"""`espat --help` and `espat <command> --help` start-up time against `python -c pass`, measured in the same run.

Goals (issues 9 and 18): `espat --help` <= 2x, `espat http --help` <= 2.5x. The three are run in turn (pass, help,
command help, pass, ...) so that a machine whose load changes during the run slows all alike; each figure is the
median of the rounds' ratios. The CLI imports a command's module only when that command runs.
"""
from __future__ import annotations

import shutil
import statistics
import subprocess
import sys
import time

ROUNDS = 21
GOALS = {"--help": 2.0, "http --help": 2.5}


def seconds(argv) -> float:
    start = time.perf_counter()
    subprocess.run(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True)
    return time.perf_counter() - start


def main() -> None:
    espat = shutil.which("espat")
    prefix = [espat] if espat else [sys.executable, "-m", "espat.cli"]
    commands = {name: prefix + name.split() for name in GOALS}
    base, times = [], {name: [] for name in GOALS}
    for _ in range(ROUNDS):
        base.append(seconds([sys.executable, "-c", "pass"]))
        for name, argv in commands.items():
            times[name].append(seconds(argv))
    print(f"python -c pass: {statistics.median(base) * 1000:.1f} ms")
    for name, spent in times.items():
        ratio = statistics.median(c / b for b, c in zip(base, spent))
        print(f"espat {name}: {statistics.median(spent) * 1000:.1f} ms; ratio {ratio:.2f}x (goal <= {GOALS[name]}x)")


if __name__ == "__main__":
    main()
