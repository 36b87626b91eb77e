"""What goes into the virtual Uno's flash: Intel HEX and AVR ELF files read into bytes, checked as a board would.

The ATmega328P has 32,768 bytes of flash; Optiboot keeps the top 512 (from byte 0x7E00), so a sketch has 32,256.
A file that does not fit, or that was built for another chip, is refused with one line saying why, before anything
runs (simavr's own loader would overflow its memory on a hex that runs past the flash).
"""
from __future__ import annotations

import struct
from pathlib import Path
from typing import Dict, Optional, Tuple

__all__ = ["FLASH_SIZE", "BOOT_SECTION", "ImageError", "read_hex", "read_firmware", "elf_symbol", "blank_flash"]

FLASH_SIZE = 32768
BOOT_SECTION = 0x7E00           # Optiboot's 512 bytes; a sketch ends below it
MCU = "atmega328p"
EM_AVR = 83


class ImageError(ValueError):
    """A firmware file the Uno cannot take; the message is one line for the user."""


def blank_flash() -> bytearray:
    return bytearray(b"\xff" * FLASH_SIZE)


def read_hex(path: Path) -> Dict[int, bytes]:
    """Intel HEX data records (types 00, 01, 02, 04) as {address: bytes}; checksums are verified."""
    chunks: Dict[int, bytes] = {}
    base = 0
    try:
        lines = Path(path).read_text(encoding="ascii").splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        raise ImageError(f"{path}: cannot read it as Intel HEX ({exc})") from None
    for number, line in enumerate(lines, 1):
        line = line.strip()
        if not line:
            continue
        try:
            if not line.startswith(":"):
                raise ValueError("no ':'")
            record = bytes.fromhex(line[1:])
            if len(record) < 5 or len(record) != record[0] + 5 or sum(record) & 0xFF:
                raise ValueError("bad length or checksum")
        except ValueError as exc:
            raise ImageError(f"{path}:{number}: not an Intel HEX record ({exc})") from None
        kind, address, data = record[3], (record[1] << 8) | record[2], record[4:-1]
        if kind == 0:
            chunks[base + address] = data
        elif kind == 1:
            break
        elif kind == 2:
            base = int.from_bytes(data, "big") << 4
        elif kind == 4:
            base = int.from_bytes(data, "big") << 16
    if not chunks:
        raise ImageError(f"{path}: no data records: not a firmware image")
    return chunks


def _elf_sections(data: bytes) -> Dict[str, Tuple[int, int, int, int, int]]:
    """name -> (type, flags, address, offset, size), for a 32-bit little-endian ELF."""
    shoff, = struct.unpack_from("<I", data, 32)
    shentsize, shnum, shstrndx = struct.unpack_from("<HHH", data, 46)
    headers = [struct.unpack_from("<IIIIII", data, shoff + i * shentsize) for i in range(shnum)]
    names_at = headers[shstrndx][4]
    sections = {}
    for name, kind, flags, addr, offset, size in headers:
        end = data.index(b"\0", names_at + name)
        sections[data[names_at + name:end].decode()] = (kind, flags, addr, offset, size)
    return sections


def _elf_device(data: bytes, sections) -> Optional[str]:
    """The chip avr-gcc built for, from its .note.gnu.avr.deviceinfo note (absent in old toolchains)."""
    note = sections.get(".note.gnu.avr.deviceinfo")
    if note is None:
        return None
    body = data[note[3]:note[3] + note[4]]
    namesz, descsz, _ = struct.unpack_from("<III", body, 0)
    desc = body[12 + ((namesz + 3) & ~3):][:descsz]
    # seven words (flash, SRAM and EEPROM start and size, the offset table's length), offsets, then the strings
    names = [s for s in desc[7 * 4:].split(b"\0") if len(s) > 1 and s.isascii() and s.decode().isprintable()]
    return names[0].decode() if names else None


def _read_elf(path: Path, data: bytes) -> Dict[int, bytes]:
    if data[4] != 1 or data[5] != 1:
        raise ImageError(f"{path}: not a 32-bit little-endian ELF, so not an AVR program")
    machine, = struct.unpack_from("<H", data, 18)
    if machine != EM_AVR:
        raise ImageError(f"{path}: built for another processor (ELF machine {machine}), not the Uno's AVR")
    sections = _elf_sections(data)
    device = _elf_device(data, sections)
    if device is not None and device != MCU:
        raise ImageError(f"{path}: built for {device}, not the Uno's {MCU}")
    # what lands in flash: loadable segments at their load (physical) address, which puts .data's initial values
    # after .text; addresses from 0x800000 up are SRAM and EEPROM in avr-gcc's ELF
    phoff, = struct.unpack_from("<I", data, 28)
    phentsize, phnum = struct.unpack_from("<HH", data, 42)
    loads = {}
    for i in range(phnum):
        kind, offset, _, paddr, filesz = struct.unpack_from("<IIIII", data, phoff + i * phentsize)
        if kind == 1 and filesz and paddr < 0x800000:
            loads[paddr] = data[offset:offset + filesz]
    if not loads:
        raise ImageError(f"{path}: no program in it")
    return loads


def read_firmware(path: Path, limit: int = BOOT_SECTION) -> bytes:
    """A sketch (HEX or ELF) as the bytes from address 0, refused when any of it lies at or past `limit`."""
    path = Path(path)
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise ImageError(f"{path}: {exc.strerror or exc}") from None
    if data[:4] == b"\x7fELF":
        try:
            chunks = _read_elf(path, data)
        except (struct.error, IndexError, ValueError) as exc:
            if isinstance(exc, ImageError):
                raise
            raise ImageError(f"{path}: a damaged ELF file ({exc})") from None
    else:
        chunks = read_hex(path)
    end = max(address + len(chunk) for address, chunk in chunks.items())
    if end > limit:
        raise ImageError(f"{path}: needs {end} bytes of flash; the Uno has {limit} for a sketch "
                         f"(Optiboot keeps the top {FLASH_SIZE - limit})")
    image = bytearray(b"\xff" * end)
    for address, chunk in chunks.items():
        image[address:address + len(chunk)] = chunk
    return bytes(image)


def elf_symbol(path: Path, name: str) -> Optional[int]:
    """A symbol's value from an ELF's symbol table (e.g. __heap_start, the first byte no variable uses)."""
    data = Path(path).read_bytes()
    if data[:4] != b"\x7fELF":
        return None
    sections = _elf_sections(data)
    symtab, strtab = sections.get(".symtab"), sections.get(".strtab")
    if symtab is None or strtab is None:
        return None
    for at in range(symtab[3], symtab[3] + symtab[4], 16):
        st_name, st_value = struct.unpack_from("<II", data, at)
        end = data.index(b"\0", strtab[3] + st_name)
        if data[strtab[3] + st_name:end] == name.encode():
            return st_value
    return None
