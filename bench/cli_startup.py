"""`espat --help` start-up time against `python -c pass`, measured in the same run (median of 15 each).

Goal (issue 4): <= 2x. The CLI imports its modules inside the commands for this.
"""
from __future__ import annotations

import shutil
import statistics
import subprocess
import sys
import time

RUNS = 15


def median_seconds(argv) -> float:
    times = []
    for _ in range(RUNS):
        start = time.perf_counter()
        subprocess.run(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main() -> None:
    espat = shutil.which("espat")
    command = [espat, "--help"] if espat else [sys.executable, "-m", "espat.cli", "--help"]
    base = median_seconds([sys.executable, "-c", "pass"])
    cli = median_seconds(command)
    print(f"python -c pass: {base * 1000:.1f} ms; {' '.join(command[-2:])}: {cli * 1000:.1f} ms; "
          f"ratio {cli / base:.2f}x (goal <= 2x)")


if __name__ == "__main__":
    main()
