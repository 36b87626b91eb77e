"""The compiled Uno firmware in simavr as a lock-step program (esp8266sim.lockstep): the AVR harness with
--lockstep, so the same field scenario the host-native build plays reaches the real AVR code, its real EEPROM write
sequence (a power cut lands on the Nth byte the chip writes) and its real watchdog. Emulation runs at about three
times the Uno's speed on a PC, so it suits a shorter span than the host-native week.

    board = LockStepBoard(loop, config, SimavrProgram(elf), adc=...)
"""
from __future__ import annotations

import os
from pathlib import Path
from typing import Optional, Tuple

from .harness import build_harness

__all__ = ["SimavrProgram"]


class SimavrProgram:
    def __init__(self, elf: Path, esp: str = "soft", seed: int = 0, wire_log: Optional[Path] = None,
                 esp_baud: Optional[int] = None) -> None:
        """`esp`: "soft" (the ESP-01 on pins 2/3 at 9600) or "uart0" (pins 0/1 at 115200), `esp_baud` another rate
        for that wire (a sketch built for it); `seed` fixes the ADC's noise, so a run is the same every time;
        `wire_log` names a file that gets every byte on a SoftwareSerial ESP link with its emulated time
        (`T|R <µs> <hex>`, as Uno.sketch's), each power-on anew."""
        self.elf = Path(elf)
        self.esp = esp
        self.seed = seed
        self.wire_log = wire_log
        self.esp_baud = esp_baud or (115200 if esp == "uart0" else 9600)
        self.harness = build_harness()

    def command(self, eeprom: Path, mcusr: int, cut_at_byte: int, torn: int, fds: str) -> Tuple[list, dict]:
        return [str(self.harness), str(self.elf), "--lockstep", fds, "--esp", self.esp,
                "--esp-baud", str(self.esp_baud), "--mcusr", str(mcusr), "--eeprom", str(eeprom),
                "--eeprom-cut", str(cut_at_byte), "--eeprom-torn", str(torn), "--seed", str(self.seed),
                *(["--wire-log", str(self.wire_log)] if self.wire_log else [])], dict(os.environ)
