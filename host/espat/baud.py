"""Finding the module's baud rate: AT at each likely rate, telling silence from garbage.

Silence at every rate points at wiring or power (nothing reaches the host); bytes that never make an answer point
at a rate outside the list, or a module that keeps resetting (a weak 3.3 V supply). 74880 is where the ROM boot
loader talks, so a module that is rebooting is heard there.
"""
from __future__ import annotations

import time
from dataclasses import dataclass
from typing import IO, List, Optional, Tuple

__all__ = ["RATES", "Probe", "survey", "detect_baud", "diagnose"]

# The rates the AT firmware takes (AT+UART), most likely first: the order detection tries them in.
RATES: Tuple[int, ...] = (115200, 9600, 57600, 38400, 19200, 74880, 230400, 460800, 921600)


@dataclass(frozen=True)
class Probe:
    rate: int
    answered: bool
    heard: int          # bytes that came back, answer or not
    slow: bool = False  # the answer came, but after the probe's bound: a slow module, at the right rate


SLOW_WAIT = 3.0         # seconds a probe waits on for a late answer, when all it heard were clean lines


def _ask(port, url: str, rate: int, trace=None) -> Probe:
    """At `rate` on the open `port`: end any half-typed line, ask AT once."""
    from .proto import commands
    from .client import BusyError, CommandTimeout, DataLost, EspAt, ModuleError
    port.baudrate = rate
    esp = EspAt(url, rate, trace=trace, port=port)      # a fresh one: no answer owed from another rate's probe
    try:
        esp.end_line()                                  # its ERROR is owed: never taken for AT's answer
        esp.drain(0.15)
        esp.command(commands.at(), timeout=0.6)
        return Probe(rate, True, esp.heard)
    except (CommandTimeout, ModuleError, BusyError, DataLost):
        late = _late_answer(esp)
        return Probe(rate, late, esp.heard, slow=late)


def _late_answer(esp) -> bool:
    """After AT timed out: whether its answer came late. Worth waiting for only when what was heard were clean
    lines (a wrong rate hears garbage, a dead line nothing)."""
    from .proto import events as ev
    if not esp.heard or esp.garbled:
        return False
    end = time.monotonic() + SLOW_WAIT
    while time.monotonic() < end:
        if isinstance(esp.next_event(end - time.monotonic()), (ev.Ok, ev.Busy)):
            return True
    return False


def survey(url: str, rates: Tuple[int, ...] = RATES, trace: Optional[IO[str]] = None) -> List[Probe]:
    """Probes in order on one opening of the port, up to and including the first rate that answered.

    One opening, as reopening a board's port resets the board again (boardwait.py); a rate asked while a board
    that the opening reset may still have been in its bootloader is asked again once it has had its time."""
    from .boardwait import BOOT_WAIT, resets_on_open
    from .transport import open_port
    found: List[Probe] = []
    port = open_port(url, rates[0])
    try:
        booting_until = time.monotonic() + BOOT_WAIT if resets_on_open(url) else 0.0
        pending, again = list(rates), []        # again: rates asked while the board may have been booting
        while pending or again:
            rate = again.pop(0) if again and (time.monotonic() >= booting_until or not pending) else pending.pop(0)
            asked = time.monotonic()
            found.append(_ask(port, url, rate, trace))
            if found[-1].answered:
                break
            if asked < booting_until:
                again.append(rate)
    finally:
        port.close()
    return found


def detect_baud(url: str, rates: Tuple[int, ...] = RATES, trace: Optional[IO[str]] = None) -> Optional[int]:
    """The rate at which the module answers AT, or None."""
    last = survey(url, rates, trace)[-1]
    return last.rate if last.answered else None


def diagnose(probes: List[Probe]) -> str:
    """What to check when no rate answered, in plain words."""
    if not any(p.heard for p in probes):
        return ("not a byte back at any rate: check that the adapter's TX goes to the module's RX and RX to TX, "
                "that CH_PD/EN is high, and that the module has a 3.3 V supply able to give 300 mA")
    noisy = ", ".join(str(rate) for rate in dict.fromkeys(p.rate for p in probes if p.heard))
    return (f"bytes but never an answer (at {noisy}): the module may run at a rate not tried (give --baud), or "
            "keep resetting on a weak 3.3 V supply (300 mA needed; the Uno's 3.3 V pin is not enough), or share "
            "no ground with the adapter")
