"""Waiting for a board that the port's opening reset, before the first command goes to it.

Opening a serial device raises DTR (the kernel does it before a program can say otherwise), and an Arduino's USB
chip turns that edge into a reset of the ATmega. Its bootloader then listens for an upload (Optiboot about 1 s,
older ones longer) and takes what arrives for itself; the sketch starts after. Through the bridge sketch the first
command sent right after the open is lost that way, so before its first command espat asks AT until the board
passes an answer on, within the operation's bound. A port that resets nothing answers the first probe at once, so
the wait costs only when nothing answers at all.
"""
from __future__ import annotations

import time
from typing import TYPE_CHECKING, Optional

from .proto import commands, events as ev

if TYPE_CHECKING:
    from .client import EspAt

__all__ = ["BOOT_WAIT", "resets_on_open", "wait_for_board"]

BOOT_WAIT = 3.0     # seconds a board may take after the reset: the bootloader's wait, then the sketch's setup()
PROBE = 0.3         # seconds each AT waits for its OK before the next one goes


def resets_on_open(url: str) -> bool:
    """A serial device (a USB adapter, an Arduino's own port, a pty such as the virtual Uno's) may reset a board
    when opened; socket://, rfc2217:// and sim:// URLs carry no DTR edge on opening."""
    return "://" not in url


def wait_for_board(esp: EspAt, bound: Optional[float] = None) -> bool:
    """Ask AT on `esp`'s port until an OK comes back or `bound` seconds have passed (never more than BOOT_WAIT:
    a board that has not answered by then is not booting); True when the module answered. The probes' own answers
    are read here, late ones too, and never reach a command sent after: a bootloader that swallowed one probe
    leaves no answer owed."""
    end = time.monotonic() + (BOOT_WAIT if bound is None else min(bound, BOOT_WAIT))
    while time.monotonic() < end:
        esp.port.write(b"\r\n" + commands.at().line)    # the CR LF ends whatever half line the module holds
        answer_by = min(end, time.monotonic() + PROBE)
        while True:
            event = esp.next_event(max(0.0, answer_by - time.monotonic()))
            if event is None:
                break
            if isinstance(event, ev.Ok):
                esp.drain(0.15, limit=1.0)              # a late OK to an earlier probe, or an echo
                return True
    return False
