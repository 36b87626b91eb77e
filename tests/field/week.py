"""A simulated week in the field, by seed: the reporter firmware (built for the host, on the shim's virtual clock),
the fake ESP-01 and `espat collect` on one virtual clock, through the faults of scenario.py; then what became of
every reading (ledger.py) and the board's traffic, per fault.

    python tests/field/week.py --days 7 --seed 1 [--env reporter_softserial] [--keep DIR]
    python tests/field/week.py --simavr --compress 168 --days 0.042 --seed 1    # the week in an hour, in simavr

Prints, per fault: joins, connects and module resets an hour, readings taken, delivered once, counted as
dropped, lost uncounted, delivered twice, the most EEPROM writes a cell took per day (and the lifetime that gives at
100,000 cycles); then the checks of issue 15 and whether each holds. Exit status 1 when one does not.
"""
from __future__ import annotations

import argparse
import bisect
import random
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Dict, List, Optional

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent / "firmware"))

from esp8266sim import SimConfig  # noqa: E402
from esp8266sim.lockstep import LockStepBoard, NativeProgram  # noqa: E402
from esp8266sim.vclock import VirtualLoop  # noqa: E402

from collector import FieldCollector  # noqa: E402
from fw_native import SETTINGS, build  # noqa: E402
from ledger import Encoding, Ledger  # noqa: E402
from scenario import HOUR, Phase, week  # noqa: E402

__all__ = ["FieldWeek", "Result", "main"]

SSID, PASSWORD, DEVICE, TOKEN = "HomeNet", "s3cr3t-field", "field-1", "tok-field-1-a8f3e2"
INTERVAL_MS = 60_000
DRAIN = 2 * HOUR                # after the week, good conditions, so what is queued can arrive
CUT_EVERY = 2 * HOUR
CYCLES = 100_000                # an EEPROM cell's rated write/erase cycles (ATmega328P datasheet)
# The reporter's reading queue in EEPROM (firmware/src/reporter/eeprom_map.h): 54 records of 18 bytes from byte 36.
QUEUE_AT, QUEUE_SLOTS, RECORD = 36, 54, 18
FIELD_SETTINGS = {**SETTINGS, "ESPAT_WIFI_SSID": SSID, "ESPAT_WIFI_PASS": PASSWORD, "ESPAT_DEVICE": DEVICE,
                  "ESPAT_TOKEN": TOKEN, "ESPAT_INTERVAL_MS": str(INTERVAL_MS)}


@dataclass
class Result:
    phases: List[Phase]
    tallies: dict
    traffic: Dict[str, dict]
    eeprom: Dict[str, float]
    checks: List[tuple]                 # (what, holds, figure)
    ledger: Ledger
    virtual_s: float
    wall_s: float
    esp_reboots: List[float] = field(default_factory=list)

    @property
    def failed(self) -> List[str]:
        return [f"{what}: {figure}" for what, holds, figure in self.checks if not holds]


class FieldWeek:
    def __init__(self, seed: int, days: float = 7.0, env: str = "reporter_softserial",
                 workdir: Optional[Path] = None, binary: Optional[Path] = None, program=None,
                 compress: float = 1.0) -> None:
        """`program`: what runs the firmware (default the host-native build of `env`, or `binary`); `compress`:
        the script's faults that many times faster (scenario.week)."""
        self.seed, self.days, self.env, self.compress = seed, days, env, compress
        self.rng = random.Random(f"field-run-{seed}")
        self.phases = week(seed, days, compress)
        self.cut_every = CUT_EVERY / compress
        self.drain = max(600.0, DRAIN / compress)
        self.end = days * 24 * HOUR
        # the collector commits each reading with an fsync: on tmpfs that costs nothing, and the week twice as fast
        shm = Path("/dev/shm")
        self.workdir = Path(workdir or tempfile.mkdtemp(prefix="espat-field-", dir=shm if shm.is_dir() else None))
        hw = env == "reporter_hwserial"
        if program is None:
            program = NativeProgram(binary or build(env, FIELD_SETTINGS),
                                    env={"ESPAT_SHIM_SERIAL_IS_ESP": "1" if hw else "0"})
        self.loop = VirtualLoop()
        self.collector = FieldCollector(self.loop, self.workdir / "collect.sqlite3", DEVICE, TOKEN)
        self.loop.create_task(self.collector.start())
        self.loop.run_until(0.0)
        self.config = SimConfig(networks={SSID: PASSWORD}, hosts={"example.com": self.collector.address}, seed=seed)
        self.board = LockStepBoard(self.loop, self.config, program, adc=self._adc, usb_log=self.workdir / "usb.txt")
        self.esp_reboots: List[float] = []
        self.cell_marks: Dict[float, List[int]] = {}
        self._power_on_at: Optional[float] = None
        self._arm_next = False          # the next power-on has a cut armed at a random EEPROM byte
        self._next_mcusr = 1
        self._minute()

    # --- the clock's minute marks and the ADC -------------------------------------------------------------------

    def _adc(self, t: float):
        return Encoding.adc(t, len(self.board.runs) - 1)

    def _minute(self) -> None:
        """A timer at every whole minute, so the program syncs there and hears the ADC's new code."""
        now = self.loop.time()
        self.loop.call_at((int(now // 60) + 1) * 60.0, self._minute)

    # --- the run ------------------------------------------------------------------------------------------------

    def run(self) -> Result:
        wall = time.monotonic()
        events = []
        for phase in self.phases:
            if phase.name != "quiet":
                events.append((phase.start, 0, getattr(self, "_start_" + phase.name.replace("-", "_")), phase))
                events.append((phase.end, 1, getattr(self, "_end_" + phase.name.replace("-", "_")), phase))
            if phase.name in ("server-down", "wifi-lost"):
                # the power goes once in mid-outage too: what the board holds must outlive it, or be counted
                events.append(((phase.start + phase.end) / 2, 0, self._cut_now, phase))
            if phase.name == "power-cuts":
                t = phase.start + self.cut_every
                while t < phase.end - 60:
                    events.append((t, 0, self._cycle_armed, phase))
                    t += self.cut_every
        events.sort(key=lambda e: (e[0], e[1]))
        self.board.power_on(mcusr=1)
        self.cell_marks[0.0] = list(self.board.cell_writes)
        for at, _, action, phase in events:
            self._run_to(at)
            self.cell_marks[at] = list(self.board.cell_writes)
            action(phase)
        self._run_to(self.end)
        self.cell_marks[self.end] = list(self.board.cell_writes)
        self._run_to(self.end + self.drain)
        now = self.loop.time()
        self.board.close()
        return self._result(now, time.monotonic() - wall)

    def _run_to(self, t: float) -> None:
        while True:
            if not self.board.running:
                if self._power_on_at is not None and self._power_on_at <= t:
                    self.board.run_until(self._power_on_at)
                    self._power_on(armed=self._arm_next)
                    continue
                self.board.run_until(t)
                return
            exit = self.board.run_until(t)
            if exit is None:
                return
            self._arm_next = False              # the armed cut (if any) is spent
            if exit.reason == "watchdog":
                self._power_on_at, self._next_mcusr = exit.at, 8
            else:                               # a power cut: off for a while
                self._power_on_at, self._next_mcusr = exit.at + self.rng.uniform(2, 60), 1

    def _power_on(self, armed: bool = False) -> None:
        self._power_on_at = None
        cut = 0
        if armed:
            # a third of the cuts among the first bytes a boot writes (its identity), the rest anywhere in what the
            # board writes before the next cycle, by the rate it wrote at so far
            runs = self.board.runs
            hours = max(1e-3, sum(((r.ended.at if r.ended else self.loop.time()) - r.started) for r in runs) / HOUR)
            expected = sum(r.eeprom_bytes for r in runs) / hours * self.cut_every / HOUR
            top = 16 if self.rng.random() < 1 / 3 else max(16, int(0.9 * expected))
            cut = self.rng.randint(1, top)
        self.board.power_on(mcusr=self._next_mcusr, cut_at_byte=cut, torn=self.rng.randrange(4))
        self._next_mcusr = 1

    def _on_loop(self, action, *args) -> None:
        self.loop.call_soon(action, *args)
        self.loop.run_until(self.loop.time())

    # --- the faults ---------------------------------------------------------------------------------------------

    def _start_server_down(self, phase: Phase) -> None:
        self.config.hosts["example.com"] = self.collector.dead_address

    def _end_server_down(self, phase: Phase) -> None:
        self.config.hosts["example.com"] = self.collector.address

    def _start_wifi_lost(self, phase: Phase) -> None:
        self.config.networks.pop(SSID, None)
        self._on_loop(self.board.module.lose_wifi)

    def _end_wifi_lost(self, phase: Phase) -> None:
        self.config.networks[SSID] = PASSWORD

    def _start_tcp_wedged(self, phase: Phase) -> None:
        self._on_loop(self.board.module.wedge_tcp)

    def _end_tcp_wedged(self, phase: Phase) -> None:
        self.board.module.tcp_wedged = False       # a stack no reset freed is freed here, for the next fault

    def _start_brown_out(self, phase: Phase) -> None:
        def reboot() -> None:
            if self.loop.time() >= phase.end:
                return
            if self.board.running:
                self.esp_reboots.append(self.loop.time())
                self.board.module.reset(delay=None)
            self.loop.call_later(self.rng.uniform(3, 30), reboot)
        self.loop.call_soon(reboot)

    def _end_brown_out(self, phase: Phase) -> None:
        pass

    def _start_power_cuts(self, phase: Phase) -> None:
        self._cycle_armed(phase)

    def _cycle_armed(self, phase: Phase) -> None:
        """Every cut_every: the power goes now if the armed byte was never reached, then comes back armed again."""
        if self.board.running:
            self.board.power_off("off")
            self._power_on_at = self.loop.time() + self.rng.uniform(2, 60)
        self._arm_next = True
        if self._power_on_at is None:
            self._power_on_at = self.loop.time()
        self._run_to(self._power_on_at)

    def _cut_now(self, phase: Phase) -> None:
        if self.board.running:
            self.board.power_off("off")
            self._power_on_at = self.loop.time() + self.rng.uniform(2, 60)
            self._arm_next = False

    def _end_power_cuts(self, phase: Phase) -> None:
        """A cut still armed goes now, and the board comes back with nothing armed."""
        self._arm_next = False
        if self.board.running and self.board.runs[-1].cut_at_byte:
            self.board.power_off("off")
            self._power_on_at = self.loop.time() + self.rng.uniform(2, 60)

    def _start_slow_server(self, phase: Phase) -> None:
        self.collector.delay = 14.0

    def _end_slow_server(self, phase: Phase) -> None:
        self.collector.delay = 0.0

    def _start_rate_limited(self, phase: Phase) -> None:
        self.collector.set_rate(1 / 600, 1)

    def _end_rate_limited(self, phase: Phase) -> None:
        self.collector.set_rate(5.0, 60)

    def _start_token_rotated(self, phase: Phase) -> None:
        self.collector.set_token("tok-rotated-" + str(self.seed))

    def _end_token_rotated(self, phase: Phase) -> None:
        self.collector.set_token(TOKEN)

    # --- the figures --------------------------------------------------------------------------------------------

    def _result(self, now: float, wall: float) -> Result:
        ledger = Ledger(self.board.runs, self.collector.answers, INTERVAL_MS / 1000, self.end, now, self._unstored())
        tallies = ledger.tally(self.phases)
        sent = _sent_between(self.board.commands)
        traffic, eeprom = {}, {}
        for phase in self.phases:
            key = f"{phase.name}@{phase.start:.0f}"
            hours = phase.hours
            cmds = sent(phase.start, phase.end)
            traffic[key] = {
                "joins": sum(1 for c in cmds if _join(c.line)) / hours,
                "connects": sum(1 for c in cmds if c.line.startswith(b"AT+CIPSTART")) / hours,
                "resets": sum(1 for c in cmds if c.line == b"AT+RST") / hours,
                "esp_reboots": sum(1 for t in self.esp_reboots if phase.start <= t < phase.end),
                "power_ons": sum(1 for r in self.board.runs if phase.start <= r.started < phase.end),
            }
            before = self.cell_marks.get(phase.start) or [0] * 1024
            after = self.cell_marks.get(phase.end) or self.board.cell_writes
            eeprom[key] = max(a - b for a, b in zip(after, before)) / (hours / 24)
        days = self.end / (24 * HOUR)
        eeprom["week"] = max(self.cell_marks[self.end]) / days
        checks = self._checks(ledger, tallies, traffic, sent)
        years = CYCLES / eeprom["week"] / 365 if eeprom["week"] else float("inf")
        if self.compress == 1:      # compressed, a day holds many boots' writes: no rate to judge a lifetime by
            checks.append(("EEPROM: the most-written cell lasts 10 years at this week's rate", years >= 10,
                           f"{eeprom['week']:.1f} writes a day, {years:.1f} years"))
        return Result(self.phases, tallies, traffic, eeprom, checks, ledger, now, wall, self.esp_reboots)

    def _unstored(self) -> frozenset:
        """Power-ons cut in the first byte of a reading's record with that byte as it was: the power went before
        any of the reading reached the EEPROM (reading_queue.h: nothing to find, nothing to count)."""
        return frozenset(i for i, r in enumerate(self.board.runs)
                         if r.ended and r.ended.cell and QUEUE_AT <= r.ended.cell[0] < QUEUE_AT + QUEUE_SLOTS * RECORD
                         and (r.ended.cell[0] - QUEUE_AT) % RECORD == 0 and r.ended.cell[1] == r.ended.cell[2])

    def _checks(self, ledger: Ledger, tallies: dict, traffic: dict, sent) -> List[tuple]:
        week_tally = tallies["week"]
        checks = [("no reading lost uncounted", week_tally.lost == 0,
                   f"{week_tally.lost} lost uncounted ({ledger.unstored} cut before a byte of them was stored)"),
                  ("no reading delivered twice", week_tally.twice == 0, f"{week_tally.twice} delivered twice"),
                  ("every reading decodes", ledger.undecodable == 0, f"{ledger.undecodable} undecodable")]
        for phase in self.phases:
            if phase.name == "server-down" and self.compress == 1:    # rates an hour need hours
                worst = 0
                t = phase.start + 600
                while t < phase.end:
                    stop = min(phase.end, t + HOUR)
                    worst = max(worst, sum(1 for c in sent(t, stop)
                                           if c.line.startswith(b"AT+CIPSTART")))
                    t = stop
                joins = sum(1 for c in sent(phase.start, phase.end) if _join(c.line) and c.joined)
                checks.append(("server down: at most 15 connects an hour after 10 min", worst <= 15,
                               f"{worst} in the worst hour"))
                checks.append(("server down: no join while the station stayed connected", joins == 0,
                               f"{joins} joins while connected"))
            if phase.name == "tcp-wedged":
                resets = sum(1 for c in sent(phase.start, phase.end) if c.line == b"AT+RST")
                checks.append(("wedged stack: AT+RST reached", resets > 0, f"{resets} AT+RST"))
        # every reset and reboot counted: the readings each power-on sent carry its reset cause, and count the
        # module's reboots the harness caused in it up to a minute before they arrived
        wrong_cause, short = [], 0
        reboots = sorted(self.esp_reboots)
        for i in sorted(ledger.senders):
            run = self.board.runs[i]
            if ledger.reset_causes.get(i) != {run.mcusr}:
                wrong_cause.append(i)
            for at, diag in ledger.diag.get(i, []):
                caused = max(0, bisect.bisect_left(reboots, at - 60) - bisect.bisect_left(reboots, run.started))
                if int(diag.get("esp_reboots", 0)) < caused:
                    short += 1
                    break
        counted = bool(ledger.diag)
        checks.append(("every Uno reset counted (reset_cause)", counted and not wrong_cause,
                       f"{len(wrong_cause)} of {len(ledger.senders)} power-ons without their cause" if counted
                       else "no diag in any reading"))
        if any(p.name == "brown-out" for p in self.phases):
            checks.append(("every ESP reboot counted (esp_reboots)", counted and short == 0,
                           f"{short} power-ons count fewer than {len(self.esp_reboots)} forced" if counted
                           else "no diag in any reading"))
        return checks


def simavr_program(env: str, seed: int):
    """The env built for the AVR with the field's settings (PlatformIO, through firmware/tools/build.py), in
    simavr."""
    import os
    import subprocess

    from unosim.lockstep_program import SimavrProgram
    root = HERE.parents[1]
    out = Path(tempfile.mkdtemp(prefix="espat-field-avr-"))
    done = subprocess.run([sys.executable, str(root / "firmware" / "tools" / "build.py"), "--out", str(out), env],
                          env={**os.environ, **FIELD_SETTINGS}, capture_output=True, text=True, timeout=900)
    if done.returncode != 0:
        raise SystemExit(f"building {env} for the AVR failed:\n{done.stderr.strip()}")
    return SimavrProgram(out / env / "firmware.elf", esp="uart0" if env == "reporter_hwserial" else "soft", seed=seed)


def _sent_between(commands: list):
    """(start, end) -> the board's commands sent in [start, end), found by bisection (they are in time order)."""
    times = [c.at for c in commands]
    assert all(a <= b for a, b in zip(times, times[1:])), "commands out of time order"
    return lambda start, end: commands[bisect.bisect_left(times, start):bisect.bisect_left(times, end)]


def _join(line: bytes) -> bool:
    return line.startswith(b"AT+CWJAP") and not line.endswith(b"?")


def report(result: Result, out=sys.stdout) -> None:
    w = out.write
    w(f"{'fault':<15}{'hours':>6}{'joins/h':>9}{'conn/h':>8}{'RST/h':>7}{'ESPboot':>8}{'Uno on':>7}{'taken':>7}"
      f"{'once':>7}{'dropped':>8}{'lost':>6}{'twice':>6}{'EE w/cell/day':>15}{'life y':>8}\n")
    for phase in result.phases:
        key = f"{phase.name}@{phase.start:.0f}"
        t, tr, ee = result.tallies[key], result.traffic[key], result.eeprom[key]
        life = f"{CYCLES / ee / 365:.1f}" if ee else "inf"
        w(f"{phase.name:<15}{phase.hours:>6.1f}{tr['joins']:>9.1f}{tr['connects']:>8.1f}{tr['resets']:>7.2f}"
          f"{tr['esp_reboots']:>8}{tr['power_ons']:>7}{t.taken:>7}{t.once:>7}{t.dropped:>8}{t.lost:>6}{t.twice:>6}"
          f"{ee:>15.1f}{life:>8}\n")
    t, ee = result.tallies["week"], result.eeprom["week"]
    life = f"{CYCLES / ee / 365:.1f}" if ee else "inf"
    w(f"{'week':<15}{result.phases[-1].end / HOUR:>6.1f}{'':>9}{'':>8}{'':>7}{len(result.esp_reboots):>8}"
      f"{'':>7}{t.taken:>7}{t.once:>7}{t.dropped:>8}{t.lost:>6}{t.twice:>6}{ee:>15.1f}{life:>8}\n")
    w(f"{result.virtual_s:.0f} simulated s in {result.wall_s:.1f} wall s "
      f"({result.virtual_s / result.wall_s:,.0f}x)\n")
    for what, holds, figure in result.checks:
        w(f"  [{'ok' if holds else 'FAIL'}] {what}: {figure}\n")


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--days", type=float, default=7.0)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--env", default="reporter_softserial", choices=["reporter_softserial", "reporter_hwserial"])
    parser.add_argument("--keep", type=Path, help="directory for the collector's database and the board's USB text")
    parser.add_argument("--simavr", action="store_true", help="run the compiled AVR firmware in simavr")
    parser.add_argument("--compress", type=float, default=1.0, help="run the script's faults N times faster")
    args = parser.parse_args(argv)
    if not 0 < args.days <= 28:
        parser.error("--days is from more than 0 to 28")
    if not 1 <= args.compress <= 1000:
        parser.error("--compress is from 1 to 1000")
    if args.keep:
        args.keep.mkdir(parents=True, exist_ok=True)
    program = simavr_program(args.env, args.seed) if args.simavr else None
    result = FieldWeek(args.seed, args.days, args.env, args.keep, program=program, compress=args.compress).run()
    report(result)
    return 1 if result.failed else 0


if __name__ == "__main__":
    sys.exit(main())
