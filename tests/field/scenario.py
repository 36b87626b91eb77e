"""The field week's script: which fault, from when to when, and what it does to the rig. Times are virtual seconds
from the start; the seed moves each fault's start by up to half an hour and draws everything random inside it
(reboot intervals, EEPROM cut bytes, off times), so a seed is one week, the same every time.

| fault          | what happens                                                                                  |
|----------------|-----------------------------------------------------------------------------------------------|
| server-down    | 24 h: nothing listens at the server's address (every connection is refused); halfway through, |
|                | the power goes for 2-60 s (what the board holds must outlive it, or be counted)                |
| wifi-lost      | 6 h: the access point is gone (WIFI DISCONNECT, every join fails with no such AP); a power cut |
|                | halfway through, as in server-down                                                            |
| tcp-wedged     | up to 6 h: AT answers, every CIPSTART times out, until the module restarts                     |
| brown-out      | 2 h: the ESP-01 reboots every 3-30 s (ready, Wi-Fi lost), as on a sagging 3.3 V rail           |
| power-cuts     | 24 h: the Uno (and the module, one supply) loses power at a random byte of an EEPROM write,    |
|                | every 2 h; off 2-60 s                                                                         |
| slow-server    | 6 h: the server answers 14 s after the request came                                           |
| rate-limited   | 6 h: the collector's rate limit is one reading per 10 min (429 with Retry-After)              |
| token-rotated  | 6 h: the device's token is replaced on the server (403), then the old one is put back          |
"""
from __future__ import annotations

import random
from dataclasses import dataclass
from typing import List

__all__ = ["Phase", "week", "HOUR"]

HOUR = 3600.0


@dataclass(frozen=True)
class Phase:
    name: str
    start: float
    end: float

    @property
    def hours(self) -> float:
        return (self.end - self.start) / HOUR


# (fault, start hour, hours): quiet time between them, so each fault starts from a board that is all caught up.
_PLAN = [
    ("server-down", 6, 24),
    ("wifi-lost", 36, 6),
    ("tcp-wedged", 48, 6),
    ("brown-out", 60, 2),
    ("power-cuts", 68, 24),
    ("slow-server", 100, 6),
    ("rate-limited", 114, 6),
    ("token-rotated", 128, 6),
]
FAULTS = [name for name, _, _ in _PLAN]


def week(seed: int, days: float = 7.0, compress: float = 1.0) -> List[Phase]:
    """The faults that start within `days`, each cut at the end of the span; quiet phases fill the gaps. With
    `compress` the script runs that many times faster (each start and length divided by it): the same week in a
    shorter span, for the slower emulator."""
    rng = random.Random(f"field-week-{seed}")
    end = days * 24 * HOUR
    faults = []
    for name, start_h, hours in _PLAN:
        start = (start_h * HOUR + rng.uniform(0, 0.5 * HOUR)) / compress
        hours /= compress
        if start >= end:
            continue
        faults.append(Phase(name, start, min(end, start + hours * HOUR)))
    phases, t = [], 0.0
    for phase in faults:
        if phase.start > t:
            phases.append(Phase("quiet", t, phase.start))
        phases.append(phase)
        t = phase.end
    if t < end:
        phases.append(Phase("quiet", t, end))
    return phases
