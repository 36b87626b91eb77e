"""The virtual Uno's figures: avrdude's upload time for each env of platformio.ini, against what the same bytes
need at the bootloader's 115200 baud, and how fast simavr emulates the board when not held to the wall clock.

Each env is built with the real `pio run`, uploaded by real avrdude (`-c arduino -b 115200`) through the board's
pty into Optiboot; the time counts from avrdude's start to its exit (sync, write and verify). The emulated speed
runs the reporter unpaced for a fixed span of emulated time against the fake ESP-01.

    python bench/uno_upload.py [--emulated-seconds 20]
"""
from __future__ import annotations

import argparse
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "firmware" / "tools"))

import build  # noqa: E402
from esp8266sim import SimConfig, Simulator  # noqa: E402
from unosim import Uno  # noqa: E402


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--emulated-seconds", type=float, default=20.0)
    args = ap.parse_args(argv)
    ini = ROOT / "platformio.ini"
    envs = list(build.read_project(ini).envs)
    with tempfile.TemporaryDirectory() as tmp, Simulator(SimConfig(baud=9600, latency_scale=0.1)) as sim:
        esp = sim.serve_tcp().split("//", 1)[1]
        sizes = build.pio_build(ini, envs, Path(tmp))
        print("upload with avrdude -c arduino -b 115200 into Optiboot on the virtual Uno (write + verify)")
        for env in envs:
            flash, _, elf = sizes[env]
            with Uno(esp) as uno:
                started = time.monotonic()
                done = subprocess.run(["avrdude", "-p", "m328p", "-c", "arduino", "-b", "115200", "-D", "-P",
                                       uno.port, "-U", f"flash:w:{elf.with_suffix('.hex')}:i"],
                                      capture_output=True, text=True)
                took = time.monotonic() - started
            if done.returncode != 0 or "bytes of flash verified" not in done.stderr:
                print(f"{env}: upload failed: {done.stderr.strip().splitlines()[-1:]}")
                continue
            # written and read back: each byte twice, plus STK500 framing (about 10 %), 10 bits a byte
            wire = 2 * flash * 1.1 * 10 / 115200
            print(f"{env}: {flash} B in {took:.2f} s ({took / wire:.1f}x the {wire:.2f} s its bytes take on the "
                  f"wire; avrdude's fixed pauses and Optiboot's page writes make up the rest)")
        elf = sizes["reporter_softserial"][2]
        started = time.monotonic()
        with Uno.sketch(elf, esp=esp, seconds=args.emulated_seconds, pace=False) as uno:
            uno._proc.wait(timeout=600)
        wall = time.monotonic() - started
        ran = float(re.search(rb"ran ([\d.]+) s", uno.stderr).group(1))
        print(f"emulated speed, reporter_softserial unpaced: {ran:.1f} s of 16 MHz Uno in {wall:.1f} s "
              f"= {ran / wall:.1f}x real time")
    return 0


if __name__ == "__main__":
    sys.exit(main())
