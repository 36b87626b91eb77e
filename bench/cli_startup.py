"""`espat --help` start-up time against `python -c pass`, measured in the same run.

Goal (issue 9): <= 2x. The two are run in turn (pass, help, pass, help, ...) so that a machine whose load changes
during the run slows both alike; the figure is the median of the pairs' ratios. The CLI imports a command's module
only when that command runs, so this is Python, click and the command table.
"""
from __future__ import annotations

import shutil
import statistics
import subprocess
import sys
import time

PAIRS = 21


def seconds(argv) -> float:
    start = time.perf_counter()
    subprocess.run(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True)
    return time.perf_counter() - start


def main() -> None:
    espat = shutil.which("espat")
    command = [espat, "--help"] if espat else [sys.executable, "-m", "espat.cli", "--help"]
    base, cli = [], []
    for _ in range(PAIRS):
        base.append(seconds([sys.executable, "-c", "pass"]))
        cli.append(seconds(command))
    ratio = statistics.median(c / b for b, c in zip(base, cli))
    print(f"python -c pass: {statistics.median(base) * 1000:.1f} ms; {' '.join(command[-2:])}: "
          f"{statistics.median(cli) * 1000:.1f} ms; ratio {ratio:.2f}x (goal <= 2x)")


if __name__ == "__main__":
    main()
