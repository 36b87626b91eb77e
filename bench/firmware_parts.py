#!/usr/bin/env python3
"""Where an example's flash goes: the example built as bench/firmware_size.py builds it (a user's settings, the real
`pio ci`), its ELF's symbols (`avr-nm -S -C`) summed by the part of the firmware they belong to, largest symbols
first within each part. What to attack next for issue 16's WebClient budget.

    python bench/firmware_parts.py [EXAMPLE] [--top N]

Flash is .text + .data (vtables sit in .data on the AVR: they cost flash and RAM); the rest of the total is the
vector table and avr-libc's start-up code, which no symbol size covers.
"""
from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
import tempfile
from collections import defaultdict
from pathlib import Path

from firmware_size import REALISTIC, examples  # noqa: E402  (a sibling script)

# First match wins; the patterns are tried against the demangled symbol name.
PARTS = [
    ("driver (EspAtDrv, its tables, blocking waits)",
     r"EspAtDrv|kCommands|kWaits|kLines|espat::wait|espat::begin|EspAtByteCounter|espat::Bytes|espat_layout"),
    ("Client (EspAtClient, its sink, IP formatting)", r"EspAtClient|EspAtSink|espat::|Text"),
    ("MQTT, HTTP and UDP facades", r"EspAtMqtt|EspAtHttp|EspAtUdp"),
    ("ESP and USB ports", r"EspAtSoftUart|EspAtRxStream|EspAtUartPort|EspAtUsbTx|__vector_5\b|__vector_18\b"),
    ("Arduino core (Print, IPAddress, millis) and avr-libc",
     r"Print::|vtable for Print|IPAddress|Stream|millis|__vector_16|udivmod|mulsi|strlen|memcmp|memcpy|pure_virtual|abort|"
     r"tablejump|__do_|_exit|__stop"),
    ("sketch (setup/loop in main, its strings, global constructors)", r"main|setup|loop|global constructors|_GLOBAL__sub_I_"),
]


def parts(elf: Path) -> dict[str, list[tuple[int, str]]]:
    out = subprocess.run(["avr-nm", "-S", "-C", "--size-sort", str(elf)], check=True, capture_output=True,
                         text=True).stdout
    found: dict[str, list[tuple[int, str]]] = defaultdict(list)
    for line in out.splitlines():
        fields = line.split(None, 3)
        if len(fields) < 4 or fields[2] in "bB":  # .bss is RAM only
            continue
        size, name = int(fields[1], 16), fields[3]
        part = next((p for p, pattern in PARTS if re.search(pattern, name)), "other")
        found[part].append((size, name))
    return found


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("example", nargs="?", default="WebClient")
    ap.add_argument("--top", type=int, default=6, help="largest symbols shown per part")
    args = ap.parse_args(argv)
    env = {**os.environ, **REALISTIC}
    with tempfile.TemporaryDirectory(prefix="espat-parts-") as out:
        try:
            flash, ram, elf = examples.build(args.example, "soft", Path(out), environ=env)
        except examples.BuildError as e:
            print(f"error: {e}", file=sys.stderr)
            return 1
        found = parts(elf)
    print(f"{args.example} (pins 2/3, a user's settings): flash {flash} B, static RAM {ram} B")
    covered = 0
    for part, symbols in sorted(found.items(), key=lambda kv: -sum(s for s, _ in kv[1])):
        total = sum(s for s, _ in symbols)
        covered += total
        print(f"\n{total:>6} B  {part}")
        for size, name in sorted(symbols, reverse=True)[:args.top]:
            print(f"{size:>14}  {name}")
    print(f"\n{flash - covered:>6} B  vector table and start-up code (no symbol size)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
