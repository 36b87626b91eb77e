#!/usr/bin/env python3
"""Build the EspAt library's examples (firmware/lib/EspAt/examples/*/NAME.ino) the two ways users do, offline, and
print their sizes: with the real `pio ci` on the project's own PlatformIO platform (the core folder
firmware/tools/pio_core.py seeds), and with `--ide` through Debian's `arduino-builder`, the Arduino IDE 1.8 build
engine, with the library as the sketchbook's only library and Debian's Arduino AVR core (/usr/share/arduino).

    python firmware/tools/build_examples.py [NAME ...] [--wiring soft|serial] [--ide] [--out DIR]

Prints `NAME: flash N B, RAM M B` per example, as build.py does for the environments; the ELF is
DIR/NAME/firmware.elf. `--wiring serial` builds each with ESP_ON_SERIAL=1 (the ESP-01 on pins 0/1). Settings come
from the environment as for `pio run` (ESPAT_WIFI_SSID, ESPAT_WIFI_PASS, ESPAT_SERVER_HOST, ESPAT_SERVER_PORT,
ESPAT_SERVER_PATH, ESPAT_DEVICE, ESPAT_TOKEN): a non-empty one becomes the example's #define (for the IDE build
the #define lines are written at the top of a copy of the sketch, as an IDE user edits them).
"""
from __future__ import annotations

import argparse
import contextlib
import re
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
                   "ESPAT_TOKEN", "ESPAT_MQTT_USER", "ESPAT_MQTT_PASS")
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


def build(name: str, wiring: str, out_root: Path, environ: dict | None = None,
          work: Path | None = None) -> tuple[int, int, Path]:
    """`pio ci` of one example; returns (flash, ram, elf). `work`: a build folder kept from an earlier build with the
    same flags (one caller at a time), so the core and the library are not compiled again: its sketch goes, this
    one is copied in, and PlatformIO compiles what changed; the same HEX comes out as from a fresh folder."""
    environ = dict(os.environ if environ is None else environ)
    sketch = EXAMPLES / name / f"{name}.ino"
    if not sketch.is_file():
        raise BuildError(f"no example {name}; there are {', '.join(examples())}")
    try:
        core = pio_core.seed()
    except pio_core.SeedError as e:
        raise BuildError(str(e)) from None
    options = "build_flags = " + " ".join(flags(wiring, environ))
    with contextlib.nullcontext(str(work)) if work is not None else \
            tempfile.TemporaryDirectory(prefix=f"espat-{name}-") as work:
        shutil.rmtree(Path(work) / "src", ignore_errors=True)     # a kept folder's sketch, not this one's
        cmd = [*pio_core.pio_command(), "ci", "--board", "uno", "--lib", str(LIBRARY), "--build-dir", work,
               "--keep-build-dir", "-O", options, str(sketch)]
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


ARDUINO = Path("/usr/share/arduino/hardware")
# Debian's core needs DECIMAL_DIG for C++ (avr-gcc 5.4 defines it for C only; the IDE's own avr-gcc 7.3 does both).
IDE_FLAGS = "-DDECIMAL_DIG=__DECIMAL_DIG__"


def defines(wiring: str, environ: dict) -> list[str]:
    """The settings as the #define lines a user would write at the top of the sketch."""
    lines = []
    for flag in flags(wiring, environ):
        name, _, value = flag.strip("'")[2:].partition("=")
        lines.append(f"#define {name} {value}")
    return lines


def build_ide(name: str, wiring: str, out_root: Path, environ: dict | None = None,
              core_cache: Path | None = None) -> tuple[int, int, Path]:
    """arduino-builder (the Arduino IDE 1.8 build engine) on one example; returns (flash, ram, elf) as it prints
    them ("Sketch uses N bytes ... Global variables use M bytes"). `core_cache`: a folder where the compiled core
    is kept between builds, as the IDE keeps it (arduino-builder's -build-cache); one process at a time may use
    it."""
    environ = dict(os.environ if environ is None else environ)
    if not (EXAMPLES / name / f"{name}.ino").is_file():
        raise BuildError(f"no example {name}; there are {', '.join(examples())}")
    builder, ctags = shutil.which("arduino-builder"), shutil.which("arduino-ctags")
    if not builder or not ctags or not ARDUINO.is_dir():
        raise BuildError("arduino-builder, arduino-ctags or arduino-core-avr missing: apt-get install "
                         "arduino-builder arduino-ctags arduino-core-avr (scripts/setup.sh does)")
    target = out_root / name
    with tempfile.TemporaryDirectory(prefix=f"espat-ide-{name}-") as work:
        work = Path(work)
        sketch = work / name
        shutil.copytree(EXAMPLES / name, sketch)
        ino = sketch / f"{name}.ino"
        ino.write_text("\n".join(defines(wiring, environ) + [ino.read_text()]))
        libraries = work / "libraries"  # the sketchbook's libraries folder, holding only EspAt
        shutil.copytree(LIBRARY, libraries / "EspAt", ignore=shutil.ignore_patterns("examples"))
        build = work / "build"
        build.mkdir()
        cmd = [builder, "-hardware", str(ARDUINO), "-tools", "/usr/bin", "-libraries", str(libraries),
               "-fqbn", "arduino:avr:uno", "-build-path", str(build),
               "-prefs", f"tools.ctags.path={Path(ctags).parent}",
               "-prefs", "tools.ctags.cmd.path={path}/arduino-ctags",
               "-prefs", 'tools.ctags.pattern="{cmd.path}" -u --language-force=c++ -f - --c++-kinds=svpf '
                         '--fields=KSTtzns --line-directives "{source_file}"',
               "-prefs", f"compiler.cpp.extra_flags={IDE_FLAGS}"]
        if core_cache is not None:
            core_cache.mkdir(parents=True, exist_ok=True)
            cmd += ["-build-cache", str(core_cache)]
        cmd += ["-compile", str(ino)]
        done = subprocess.run(cmd, capture_output=True, text=True, timeout=600)
        if done.returncode != 0:
            failed = [line for line in done.stdout.splitlines() + done.stderr.splitlines() if "rror" in line]
            raise BuildError(f"arduino-builder {name} failed:\n" + "\n".join(failed[-20:] or
                                                                              done.stdout.splitlines()[-20:]))
        said = re.search(r"Sketch uses (\d+) bytes.*?Global variables use (\d+) bytes", done.stdout, re.S)
        if not said:
            raise BuildError(f"arduino-builder {name} printed no sizes:\n{done.stdout[-1000:]}")
        target.mkdir(parents=True, exist_ok=True)
        for suffix in ("elf", "hex"):
            shutil.copy(build / f"{name}.ino.{suffix}", target / f"firmware.{suffix}")
    return int(said.group(1)), int(said.group(2)), target / "firmware.elf"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description="Build the EspAt examples with `pio ci` and print their sizes.")
    ap.add_argument("names", nargs="*", metavar="NAME", help="examples to build (default: all)")
    ap.add_argument("--wiring", choices=("soft", "serial"), default="soft",
                    help="soft: the ESP-01 on pins 2/3 (default); serial: on pins 0/1")
    ap.add_argument("--ide", action="store_true", help="build with arduino-builder (the Arduino IDE) instead")
    ap.add_argument("--out", type=Path, default=ROOT / ".pio" / "examples", help="where the ELF and HEX go")
    args = ap.parse_args(argv)
    try:
        for name in args.names or examples():
            flash, ram, _ = (build_ide if args.ide else build)(name, args.wiring, args.out)
            print(f"{name}: flash {flash} B, RAM {ram} B", flush=True)
    except BuildError as e:
        print(f"build_examples.py: {e}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
