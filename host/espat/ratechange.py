"""Changing an open module's UART rate (EspAt.set_baud): apart from baud.py, which finds the rate and so drives
an EspAt of its own, so that the client's import of this runs downward."""
from __future__ import annotations

import time
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .client import EspAt

__all__ = ["change_rate"]


def change_rate(esp: EspAt, rate: int, persist: bool = False) -> None:
    """UART_CUR at the old rate, reopen at the new one, check with AT; UART_DEF only when asked (EspAt.set_baud)."""
    from . import commands
    from .errors import CommandTimeout, ModuleError
    old = esp.port.baudrate
    esp.command(commands.uart(rate, esp.dialect))
    time.sleep(0.05)                # OK came at the old rate; the module switches only once it is sent
    esp.port.baudrate = rate
    esp.end_line()                  # its ERROR is owed: never taken for AT's answer, however late
    esp.drain(0.2)
    try:
        esp.command(commands.at(), timeout=1.0)
    except (CommandTimeout, ModuleError) as exc:
        esp.port.baudrate = old
        raise CommandTimeout(f"the module did not answer at {rate} baud: {exc}") from None
    if persist:
        esp.command(commands.uart(rate, esp.dialect, persist=True))
