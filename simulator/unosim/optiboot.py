"""Optiboot for the virtual Uno, built from the source Debian ships with arduino-core-avr.

Debian's prebuilt optiboot_atmega328.hex does not work: rebuilt by its gcc it is 532 bytes, runs past the end of
flash and its version word overwrites code. Built from the same source with flags that keep functions called once
out of line, it is 500 bytes and ends below 0x7FFE, where its version word goes. The build is cached by the
source's hash, as the AVR harness is.
"""
from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import tempfile
from pathlib import Path

from .harness import HarnessError, cache_dir
from .image import BOOT_SECTION, FLASH_SIZE, ImageError, read_hex

__all__ = ["SOURCE", "build_optiboot", "optiboot_image"]

SOURCE = Path(os.environ.get("ESPAT_ARDUINO_AVR", "/usr/share/arduino/hardware/arduino/avr")) / "bootloaders" / "optiboot"
OPTIMIZE = "-Os -fno-inline-small-functions -fno-split-wide-types -mrelax -fno-inline-functions-called-once"
VERSION_WORD = FLASH_SIZE - 2


def build_optiboot() -> Path:
    """The path of optiboot_atmega328.hex built here; HarnessError says what is missing."""
    if not (SOURCE / "optiboot.c").is_file():
        raise HarnessError(f"{SOURCE}/optiboot.c not found: apt-get install arduino-core-avr")
    digest = hashlib.sha256(OPTIMIZE.encode())
    for name in sorted(p.name for p in SOURCE.iterdir() if p.suffix in (".c", ".h") or p.name == "Makefile"):
        digest.update((SOURCE / name).read_bytes())
    target = cache_dir() / f"optiboot_atmega328-{digest.hexdigest()[:16]}.hex"
    if target.exists():
        return target
    if shutil.which("avr-gcc") is None or shutil.which("make") is None:
        raise HarnessError("avr-gcc or make not found: apt-get install gcc-avr avr-libc make")
    with tempfile.TemporaryDirectory() as work:
        copy = Path(work) / "optiboot"
        shutil.copytree(SOURCE, copy)
        for stale in copy.glob("*.hex"):
            stale.unlink()
        done = subprocess.run(["make", "-C", str(copy), "atmega328", f"OPTIMIZE={OPTIMIZE}"],
                              capture_output=True, text=True)
        built = copy / "optiboot_atmega328.hex"
        if done.returncode != 0 or not built.exists():
            raise HarnessError(f"building Optiboot failed:\n{done.stderr.strip()[-2000:]}")
        target.parent.mkdir(parents=True, exist_ok=True)
        partial = target.with_suffix(f".{os.getpid()}.tmp")
        shutil.copyfile(built, partial)
        partial.replace(target)
    return target


def optiboot_image() -> dict:
    """{address: bytes} of the bootloader, checked to lie inside the boot section without overlapping itself."""
    path = build_optiboot()
    chunks = read_hex(path)
    code_end = max(a + len(c) for a, c in chunks.items() if a < VERSION_WORD)
    if min(chunks) < BOOT_SECTION or code_end > VERSION_WORD or max(a + len(c) for a, c in chunks.items()) > FLASH_SIZE:
        raise ImageError(f"{path}: Optiboot does not fit its 512-byte section (code ends at {code_end:#x})")
    return chunks
