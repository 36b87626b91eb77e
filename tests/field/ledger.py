"""What became of every reading the board took: the field week's accounting, from what the harness knows and what
the collector got, never from the firmware's insides.

Each reading names the moment it was sampled through the ADC: the harness sets A0 and the chip's temperature
sensor to millivolts that count the minutes of the week, and Vcc to one that counts the board's power-ons, so a
reading's values and uptime_ms say which power-on took it and when (`Sample`). From the power-ons' lifetimes and the
sampling interval the harness knows every reading that was taken; from the collector's answers, which were stored
and how often; from the readings' `dropped`, how many the board says it let go.

- delivered once: a sample stored under one key; delivered twice: a sample stored under two or more keys;
- counted as dropped: missing samples covered by the board's `dropped` counts. `dropped` belongs to the send, so
  it is read as a counter over the accepted sends in the order they arrived: what it rose by, and after it fell (a
  counter that started again at a reset) its whole value; that holds for a count kept per boot and for one kept for
  ever. What a send adds covers the newest missing samples taken before it arrived (a count can only be of readings
  the board had taken, and older ones were for earlier sends to count);
- lost uncounted: missing samples no count covers;
- unstored: the sample a power-on was queueing when a power cut came before any byte of it changed (the caller
  names those power-ons): it never reached the EEPROM, and nothing can count it (reading_queue.h). Left out.

A send's `diag` counts since the boot that sent it: it is checked against the power-on that was running when it
arrived.
"""
from __future__ import annotations

import bisect
import json
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Dict, List, Optional, Tuple

__all__ = ["Encoding", "Ledger", "Sample"]

MINUTE = 60.0


class Encoding:
    """The ADC's inputs as a clock: A0 = 40 + 8 (minute mod 128) mV, the temperature sensor 240 + 8 (minute / 128
    mod 80) mV, Vcc 3600 + 100 (power-on mod 12) mV. 8 mV apart is well over a step against 1.1 V (1.07 mV) plus
    the virtual Uno's ADC noise (2 mV)."""

    @staticmethod
    def adc(t: float, power_on: int) -> Tuple[int, int, int]:
        minute = int(t // MINUTE)
        return 40 + 8 * (minute % 128), 240 + 8 * ((minute // 128) % 80), 3600 + 100 * (power_on % 12)

    @staticmethod
    def decode(values: dict) -> Optional[Tuple[int, int]]:
        """(minute, power-on mod 12) from a reading's values, None when they do not carry the code."""
        try:
            a0 = round((float(values["a0_c"]) * 10 - 40) / 8)
            hi = round((float(values["chip_c"]) * 10 + 2890 - 2400) / 80)
            pon = round((float(values["vcc_mv"]) - 3600) / 100)
        except (KeyError, TypeError, ValueError):
            return None
        if not (0 <= a0 < 128 and 0 <= hi < 80 and 0 <= pon < 12):
            return None
        return hi * 128 + a0, pon


@dataclass
class Sample:
    power_on: int
    uptime_ms: int
    at: float                       # virtual seconds
    keys: set = field(default_factory=set)     # (incarnation, boot, seq) it was stored under


@dataclass
class Tally:
    taken: int = 0
    once: int = 0
    twice: int = 0
    dropped: int = 0
    lost: int = 0


def _running(runs: list, at: float) -> Optional[int]:
    """The power-on that was running at `at` (None: the board was off)."""
    for i in range(len(runs) - 1, -1, -1):
        if runs[i].started <= at and (runs[i].ended is None or at <= runs[i].ended.at):
            return i
    return None


class Ledger:
    def __init__(self, runs: list, answers: list, interval_s: float, end: float, now: float,
                 unstored: frozenset = frozenset()) -> None:
        """`runs`: the board's PowerOns; `answers`: the collector's; samples from `end` on are left out (the drain
        after the week); `now`: when the run stopped (the last power-on's end if it is still on); `unstored`: the
        power-ons whose last sample was cut before it reached the EEPROM."""
        self.interval_ms = int(round(interval_s * 1000))
        self.end = end
        self.unstored = 0               # samples left out as never stored
        self.undecodable = 0
        self.samples: Dict[Tuple[int, int], Sample] = {}
        self.diag: Dict[int, List[Tuple[float, dict]]] = defaultdict(list)   # power-on -> (arrived at, diag)
        self.reset_causes: Dict[int, set] = defaultdict(set)
        self.counted = 0                # readings the board says it let go, all told
        self.senders: set = set()       # power-ons that got a reading accepted
        self.rises: List[Tuple[float, int]] = []    # (arrived at, how much `dropped` rose)
        last = 0
        for answer in sorted(answers, key=lambda a: a.at):
            if answer.status not in (200, 201):
                continue
            body = json.loads(answer.body)
            dropped = int(body.get("dropped", 0))
            rise = dropped - last if dropped >= last else dropped
            last = dropped
            if rise:
                self.counted += rise
                self.rises.append((answer.at, rise))
            sender = _running(runs, answer.at)
            if sender is not None:
                self.senders.add(sender)
            diag = body.get("diag")
            if isinstance(diag, dict) and sender is not None:
                self.diag[sender].append((answer.at, diag))
                if "reset_cause" in diag:
                    self.reset_causes[sender].add(diag["reset_cause"])
            sample = self._sample(runs, body)
            if sample is None:
                self.undecodable += 1
            elif answer.status == 201:
                sample.keys.add((str(body["incarnation"]), int(body["boot"]), int(body["seq"])))
        self.expected: List[Sample] = self._expected(runs, now, unstored)

    def _sample(self, runs: list, body: dict) -> Optional[Sample]:
        code = Encoding.decode(body.get("readings", {}))
        if code is None or "uptime_ms" not in body:
            return None
        minute, pon = code
        uptime = int(body["uptime_ms"])
        best = None
        for i in range(pon, len(runs), 12):
            at = runs[i].started + uptime / 1000
            if minute * MINUTE - 1 <= at < (minute + 1) * MINUTE + 1:
                if best is None or abs(at - (minute + 0.5) * MINUTE) < abs(best[1] - (minute + 0.5) * MINUTE):
                    best = (i, at)
        if best is None:
            return None
        key = (best[0], uptime)
        if key not in self.samples:
            self.samples[key] = Sample(best[0], uptime, best[1])
        return self.samples[key]

    def _expected(self, runs: list, now: float, unstored: frozenset) -> List[Sample]:
        """Every sample each power-on took before the end: its delivered ones, and the ones its schedule (the first
        delivered one's phase in the interval; without any, the usual phase of the others) says it took besides."""
        phase_of: Dict[int, int] = {}
        for sample in self.samples.values():
            phase_of.setdefault(sample.power_on, sample.uptime_ms % self.interval_ms)
            phase_of[sample.power_on] = min(phase_of[sample.power_on], sample.uptime_ms % self.interval_ms)
        usual = sorted(phase_of.values())[len(phase_of) // 2] if phase_of else 0
        out = []
        for i, run in enumerate(runs):
            stop = run.ended.at if run.ended else now
            phase = phase_of.get(i, usual)
            delivered = {round((s.uptime_ms - phase) / self.interval_ms): s
                         for s in self.samples.values() if s.power_on == i}
            k = 0
            while True:
                uptime = phase + k * self.interval_ms
                at = run.started + uptime / 1000
                if at >= stop or at >= self.end:
                    break
                out.append(delivered.get(k) or Sample(i, uptime, at))
                k += 1
            if i in unstored and k and not out[-1].keys:
                out.pop()
                self.unstored += 1
        return out

    def tally(self, phases: list) -> Dict[str, Tally]:
        """Per phase (by the time each reading was sampled), and "week" for all of them."""
        result = {id(p): Tally() for p in phases}
        week = Tally()
        missing = []
        for sample in self.expected:
            phase = next((p for p in phases if p.start <= sample.at < p.end), phases[-1])
            t = result[id(phase)]
            t.taken += 1
            week.taken += 1
            if len(sample.keys) == 1:
                t.once += 1
                week.once += 1
            elif len(sample.keys) > 1:
                t.twice += 1
                week.twice += 1
            else:
                missing.append((sample, t))
        missing.sort(key=lambda st: st[0].at)
        times = [sample.at for sample, _ in missing]
        covered = [False] * len(missing)
        pool = 0                        # counted beyond the missing samples taken before the count arrived
        for at, rise in self.rises:
            i = bisect.bisect_left(times, at) - 1
            while rise and i >= 0:
                if not covered[i]:
                    covered[i] = True
                    rise -= 1
                i -= 1
            pool += rise
        for (sample, t), done in zip(missing, covered):
            if done:
                t.dropped += 1
                week.dropped += 1
            else:
                t.lost += 1
                week.lost += 1
        self.overcounted = pool        # counted as dropped beyond what is missing
        out = {f"{p.name}@{p.start:.0f}": result[id(p)] for p in phases}
        out["week"] = week
        return out
