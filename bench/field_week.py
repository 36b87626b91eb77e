"""The simulated field week's speed: simulated seconds per wall second for the whole scripted week (issue 15 §2, goal
>= 5,000x on a 2-core machine), and for its first day alone (mostly quiet plus the start of the server outage).

The host-native reporter, the fake ESP-01 and espat collect run on one virtual clock (tests/field/week.py); the
figures include everything: the firmware's own loop, the lock-step frames, the fake's command handling, uvicorn and
the collector's commits. The firmware is built before the clock starts.

    python bench/field_week.py [--seed 1] [--days 7] [--env reporter_softserial]
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests" / "field"))
sys.path.insert(0, str(ROOT / "tests" / "firmware"))

from week import FIELD_SETTINGS, FieldWeek, report  # noqa: E402

from fw_native import build  # noqa: E402

GOAL = 5000


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--days", type=float, default=7.0)
    parser.add_argument("--env", default="reporter_softserial")
    args = parser.parse_args()
    binary = build(args.env, FIELD_SETTINGS)
    day = FieldWeek(args.seed, 1.0, args.env, binary=binary).run()
    result = FieldWeek(args.seed, args.days, args.env, binary=binary).run()
    report(result)
    print()
    print(f"{'span':<14}{'simulated s':>12}{'wall s':>9}{'speed':>10}")
    for name, r in (("first day", day), (f"{args.days:g} days", result)):
        print(f"{name:<14}{r.virtual_s:>12.0f}{r.wall_s:>9.1f}{r.virtual_s / r.wall_s:>9,.0f}x")
    speed = result.virtual_s / result.wall_s
    print(f"goal >= {GOAL:,}x for the week: {'met' if speed >= GOAL else 'NOT met'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
