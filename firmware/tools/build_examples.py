#!/usr/bin/env python3
"""Build the EspAt library's examples (firmware/lib/EspAt/examples/*/NAME.ino) with the real `pio ci`, offline on
the project's own PlatformIO platform (the core folder firmware/tools/pio_core.py seeds), and print their sizes.

    python firmware/tools/build_examples.py [NAME ...] [--wiring soft|serial] [--out DIR]

Prints `NAME: flash N B, RAM M B` per example, as build.py does for the environments; the ELF is
DIR/NAME/firmware.elf. `--wiring serial` builds each with ESP_ON_SERIAL=1 (the ESP-01 on pins 0/1). Settings come
from the environment as for `pio run` (ESPAT_WIFI_SSID, ESPAT_WIFI_PASS, ESPAT_SERVER_HOST, ESPAT_SERVER_PORT,
ESPAT_SERVER_PATH, ESPAT_DEVICE, ESPAT_TOKEN): a non-empty one becomes the example's #define.
"""
from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import pio_core  # noqa: E402  (a sibling script, not a package)
from build import BuildError, _avr_size  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]
LIBRARY = ROOT / "firmware" / "lib" / "EspAt"
EXAMPLES = LIBRARY / "examples"
STRING_SETTINGS = ("ESPAT_WIFI_SSID", "ESPAT_WIFI_PASS", "ESPAT_SERVER_HOST", "ESPAT_SERVER_PATH", "ESPAT_DEVICE",
                   "ESPAT_TOKEN")
NUMBER_SETTINGS = ("ESPAT_SERVER_PORT",)


def examples() -> list[str]:
    return sorted(p.name for p in EXAMPLES.iterdir() if (p / f"{p.name}.ino").is_file())


def flags(wiring: str, environ: dict) -> list[str]:
    out = [f"-DESP_ON_SERIAL={1 if wiring == 'serial' else 0}"]
    for name in STRING_SETTINGS:
        value = environ.get(name, "")
        if value:
            if any(c in value for c in "\"'\\"):
                raise BuildError(f"{name}: quotes and backslashes cannot be passed to an example's build")
            out.append(f"'-D{name}=\"{value}\"'")
    for name in NUMBER_SETTINGS:
        value = environ.get(name, "")
        if value:
            if not value.isdigit():
                raise BuildError(f"{name}={value!r} is not a number")
            out.append(f"-D{name}={value}")
    return out


def build(name: str, wiring: str, out_root: Path, environ: dict | None = None) -> tuple[int, int, Path]:
    """`pio ci` of one example; returns (flash, ram, elf)."""
    environ = dict(os.environ if environ is None else environ)
    sketch = EXAMPLES / name / f"{name}.ino"
    if not sketch.is_file():
        raise BuildError(f"no example {name}; there are {', '.join(examples())}")
    try:
        core = pio_core.seed()
    except pio_core.SeedError as e:
        raise BuildError(str(e)) from None
    with tempfile.TemporaryDirectory(prefix=f"espat-{name}-") as work:
        cmd = [*pio_core.pio_command(), "ci", "--board", "uno", "--lib", str(LIBRARY), "--build-dir", work,
               "--keep-build-dir", "-O", "build_flags = " + " ".join(flags(wiring, environ)), str(sketch)]
        done = subprocess.run(cmd, env=pio_core.environ(core), capture_output=True, text=True, timeout=600)
        if done.returncode != 0:
            failed = [line for line in done.stdout.splitlines() + done.stderr.splitlines() if "rror" in line]
            raise BuildError(f"pio ci {name} failed:\n" + "\n".join(failed[-20:] or done.stdout.splitlines()[-20:]))
        target = out_root / name
        target.mkdir(parents=True, exist_ok=True)
        for suffix in ("elf", "hex"):
            shutil.copy(Path(work) / ".pio" / "build" / "uno" / f"firmware.{suffix}", target / f"firmware.{suffix}")
    elf = target / "firmware.elf"
    return (*_avr_size(elf), elf)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description="Build the EspAt examples with `pio ci` and print their sizes.")
    ap.add_argument("names", nargs="*", metavar="NAME", help="examples to build (default: all)")
    ap.add_argument("--wiring", choices=("soft", "serial"), default="soft",
                    help="soft: the ESP-01 on pins 2/3 (default); serial: on pins 0/1")
    ap.add_argument("--out", type=Path, default=ROOT / ".pio" / "examples", help="where the ELF and HEX go")
    args = ap.parse_args(argv)
    try:
        for name in args.names or examples():
            flash, ram, _ = build(name, args.wiring, args.out)
            print(f"{name}: flash {flash} B, RAM {ram} B", flush=True)
    except BuildError as e:
        print(f"build_examples.py: {e}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
