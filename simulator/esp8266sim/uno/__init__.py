"""`espat uno`: a virtual Arduino Uno (simavr + Optiboot) that avrdude and PlatformIO upload to, wired to the fake
ESP-01 (board.py); firmware files read and checked (image.py); the bootloader built from Debian's source
(optiboot.py)."""
from .board import ANALOG_PINS, ESP_WIRING, VirtualUno
from .image import ImageError

__all__ = ["ANALOG_PINS", "ESP_WIRING", "ImageError", "VirtualUno"]
