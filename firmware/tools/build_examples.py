#!/usr/bin/env python3
"""Build the EspAt library's examples the two ways users do, offline, and print their sizes:

- PlatformIO: the real `pio ci --lib firmware/lib/EspAt --board uno` against the seeded core (pio_core.py);
- the Arduino IDE: Debian's `arduino-builder` (the IDE 1.8 build engine) with the library folder as the IDE's
  libraries folder and Debian's Arduino AVR core (/usr/share/arduino/hardware).

    python firmware/tools/build_examples.py                  # every example, both ways
    python firmware/tools/build_examples.py --with ide MqttPublish
    python firmware/tools/build_examples.py --secret SECRET_SSID=HomeNet --out /tmp/ex

A sketch is built from a copy of its folder; `--secret NAME=VALUE` writes the copy's `arduino_secrets.h` (the
IDE's convention for credentials) with `#define NAME "VALUE"` lines, so a test or a user can build an example with
its own settings without editing it. Exit status 1 with one line per failure when a build fails.
"""
from __future__ import annotations

import argparse
import re
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import pio_core  # noqa: E402  (a sibling script, not a package)

ROOT = Path(__file__).resolve().parents[2]
LIBRARY = ROOT / "firmware" / "lib" / "EspAt"
EXAMPLES = LIBRARY / "examples"
ARDUINO = Path("/usr/share/arduino/hardware")
# Debian's core needs DECIMAL_DIG for C++ (see firmware/platform); the IDE's own avr-gcc 7.3 defines it.
IDE_FLAGS = "-DDECIMAL_DIG=__DECIMAL_DIG__"


class BuildError(Exception):
    """A build failed; the message says which and why."""


@dataclass
class Built:
    flash: int
    ram: int
    elf: Path


def examples() -> list[str]:
    """The example names: folders under examples/ holding NAME/NAME.ino."""
    return sorted(p.name for p in EXAMPLES.iterdir() if (p / f"{p.name}.ino").is_file()) if EXAMPLES.is_dir() else []


def _copy(name: str, secrets: dict, where: Path) -> Path:
    sketch = where / name
    shutil.copytree(EXAMPLES / name, sketch)
    if secrets:
        lines = [f"#define {k} {_c_string(v)}" for k, v in secrets.items()]
        (sketch / "arduino_secrets.h").write_text("#pragma once\n" + "\n".join(lines) + "\n")
    return sketch


def _c_string(value: str) -> str:
    if value.isdigit():
        return value
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _avr_size(elf: Path) -> tuple[int, int]:
    done = subprocess.run(["avr-size", "-A", str(elf)], capture_output=True, text=True)
    if done.returncode != 0:
        raise BuildError(f"avr-size {elf}: {done.stderr.strip()}")
    sections = {m[0]: int(m[1]) for m in re.findall(r"^(\.\w+)\s+(\d+)", done.stdout, re.M)}
    return sections.get(".text", 0) + sections.get(".data", 0), sections.get(".data", 0) + sections.get(".bss", 0)


def build_pio(name: str, out: Path, secrets: dict | None = None) -> Built:
    """`pio ci` of one example for the Uno, as a PlatformIO user would build it."""
    try:
        core = pio_core.seed()
    except pio_core.SeedError as e:
        raise BuildError(f"{name}: {e}") from None
    out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="espat-ex-") as tmp:
        sketch = _copy(name, secrets or {}, Path(tmp))
        build = out / "pio"
        shutil.rmtree(build, ignore_errors=True)
        done = subprocess.run([*pio_core.pio_command(), "ci", "--lib", str(LIBRARY), "--board", "uno",
                               "--build-dir", str(build), "--keep-build-dir", str(sketch)],
                              capture_output=True, text=True, env=pio_core.environ(core))
    if done.returncode != 0:
        raise BuildError(f"{name}: pio ci failed:\n{(done.stdout + done.stderr)[-3000:]}")
    elf = build / ".pio" / "build" / "uno" / "firmware.elf"
    return Built(*_avr_size(elf), elf)


def build_ide(name: str, out: Path, secrets: dict | None = None) -> Built:
    """Debian's arduino-builder (the Arduino IDE 1.8 build engine) on one example, as the IDE would build it."""
    builder = shutil.which("arduino-builder")
    ctags = shutil.which("arduino-ctags")
    if not builder or not ctags or not ARDUINO.is_dir():
        raise BuildError("arduino-builder, arduino-ctags or arduino-core-avr missing: "
                         "apt-get install arduino-builder arduino-ctags arduino-core-avr (scripts/setup.sh does)")
    out.mkdir(parents=True, exist_ok=True)
    build = out / "ide"
    shutil.rmtree(build, ignore_errors=True)
    build.mkdir()
    with tempfile.TemporaryDirectory(prefix="espat-ex-") as tmp:
        sketch = _copy(name, secrets or {}, Path(tmp))
        libraries = Path(tmp) / "libraries"  # the IDE's sketchbook libraries folder, holding only EspAt
        libraries.mkdir()
        shutil.copytree(LIBRARY, libraries / "EspAt", ignore=shutil.ignore_patterns("examples"))
        done = subprocess.run([builder, "-hardware", str(ARDUINO), "-tools", "/usr/bin", "-libraries", str(libraries),
                               "-fqbn", "arduino:avr:uno", "-build-path", str(build),
                               "-prefs", f"tools.ctags.path={Path(ctags).parent}",
                               "-prefs", "tools.ctags.cmd.path={path}/arduino-ctags",
                               "-prefs", 'tools.ctags.pattern="{cmd.path}" -u --language-force=c++ -f - '
                                         '--c++-kinds=svpf --fields=KSTtzns --line-directives "{source_file}"',
                               "-prefs", f"compiler.cpp.extra_flags={IDE_FLAGS}",
                               "-compile", str(sketch / f"{name}.ino")], capture_output=True, text=True)
    if done.returncode != 0:
        raise BuildError(f"{name}: arduino-builder failed:\n{(done.stdout + done.stderr)[-3000:]}")
    said = re.search(r"Sketch uses (\d+) bytes.*?Global variables use (\d+) bytes", done.stdout, re.S)
    if not said:
        raise BuildError(f"{name}: arduino-builder did not print the sizes:\n{done.stdout[-1000:]}")
    elf = build / f"{name}.ino.elf"
    return Built(int(said.group(1)), int(said.group(2)), elf)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description="Build EspAt's examples with pio ci and arduino-builder, offline.")
    ap.add_argument("names", nargs="*", help="examples (default: all)")
    ap.add_argument("--with", dest="how", choices=("pio", "ide", "both"), default="both")
    ap.add_argument("--secret", action="append", default=[], metavar="NAME=VALUE",
                    help="a line of the sketch copy's arduino_secrets.h (repeatable)")
    ap.add_argument("--out", type=Path, default=None, help="where the builds go (default: a temporary folder)")
    args = ap.parse_args(argv)
    known = examples()
    names = args.names or known
    unknown = [n for n in names if n not in known]
    if unknown or not names:
        print(f"build_examples: no example {', '.join(unknown) or '(none found)'}; known: {', '.join(known)}",
              file=sys.stderr)
        return 2
    secrets = {}
    for item in args.secret:
        key, sep, value = item.partition("=")
        if not sep or not re.fullmatch(r"[A-Z_][A-Z0-9_]*", key):
            print(f"build_examples: --secret {item!r}: expected NAME=VALUE", file=sys.stderr)
            return 2
        secrets[key] = value
    out = args.out or Path(tempfile.mkdtemp(prefix="espat-examples-"))
    failed = 0
    for name in names:
        for how, build in (("pio ci", build_pio), ("arduino-builder", build_ide)):
            if args.how != "both" and (args.how == "pio") != (how == "pio ci"):
                continue
            try:
                b = build(name, out / name, secrets)
            except BuildError as e:
                print(f"build_examples: {e}", file=sys.stderr)
                failed += 1
                continue
            print(f"{name} ({how}): flash {b.flash} B, RAM {b.ram} B")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
