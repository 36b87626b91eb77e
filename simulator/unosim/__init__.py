"""unosim: a virtual Arduino Uno, the second device beside the fake ESP-01 (esp8266sim) and wired to it.

Compiled Uno firmware runs in simavr inside a C harness (uno_harness.c and the parts beside it), built on first use
by harness.py; its ESP-01 link goes to the fake module's TCP front end. board.py's one `Uno` class runs it, as the
board `espat uno` (cli.py) serves (Optiboot, flash and EEPROM in files, USB serial on a pseudo-terminal) or as a
sketch under test (`Uno.sketch`, USB serial on pipes); image.py reads and checks firmware files; optiboot.py builds
the bootloader; lockstep_program.py runs the harness on the fake's virtual clock.

The Uno imports the fake; the fake never imports the Uno (tests/arch checks it).
"""
from .board import ANALOG_PINS, ESP_WIRING, Uno
from .harness import HarnessError, build_harness
from .image import ImageError

__all__ = ["ANALOG_PINS", "ESP_WIRING", "HarnessError", "ImageError", "Uno", "build_harness"]
