#!/usr/bin/env python3
"""Build environments of platformio.ini with the real `pio run`, offline, and print their sizes.

The compile and link flags live in one place, the project's PlatformIO platform (firmware/platform/builder): this
script only seeds PlatformIO's core folder (firmware/tools/pio_core.py), runs `pio run` and reads the sizes of
what it built with `avr-size -C`, as the Arduino IDE reports them.

    python firmware/tools/build.py [ENV ...] [--ini platformio.ini] [--out DIR]

Prints `NAME: flash N B, RAM M B` per environment; the ELF and HEX are DIR/NAME/firmware.elf and .hex (without
--out, PlatformIO's own .pio/build/NAME/). The helpers that read the ini (`read_project`, `select_sources`,
`resolve_libraries`) serve the host-native builds of the sketches in tests/firmware.
"""
from __future__ import annotations

import argparse
import configparser
import fnmatch
import os
import re
import shlex
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))  # its siblings: pio_core, settings_header, ...
import pio_core  # noqa: E402  (a sibling script, not a package)

ARDUINO = Path(os.environ.get("ESPAT_ARDUINO_AVR", "/usr/share/arduino/hardware/arduino/avr"))
FRAMEWORK_LIBS = ARDUINO / "libraries"
MCU = "atmega328p"
SOURCE_SUFFIXES = (".c", ".cpp", ".S")
INCLUDE = re.compile(r'^\s*#\s*include\s*[<"]([^>"]+)[>"]', re.M)
SYSENV = re.compile(r"\$\{sysenv\.(\w+)\}")
REFERENCE = re.compile(r"\$\{(\w+)\.(\w+)\}")


class BuildError(Exception):
    """A build that cannot go on; the message is one line for the user."""


@dataclass
class Env:
    name: str
    src_filter: list[str]
    build_flags: list[str]


@dataclass
class Project:
    root: Path
    src_dir: Path
    lib_dir: Path
    include_dir: Path
    envs: dict[str, Env]


def _expand(value: str, parser: configparser.ConfigParser, depth: int = 0) -> str:
    """PlatformIO's ${sysenv.X} (unset means empty) and ${section.option} references."""
    value = SYSENV.sub(lambda m: os.environ.get(m.group(1), ""), value)
    if depth > 8:
        raise BuildError("platformio.ini: references nest too deep")

    def ref(m: re.Match) -> str:
        section, option = m.group(1), m.group(2)
        if not parser.has_option(section, option):
            raise BuildError(f"platformio.ini: ${{{section}.{option}}} is not defined")
        return _expand(parser.get(section, option, raw=True), parser, depth + 1)

    return REFERENCE.sub(ref, value)


def _option(parser: configparser.ConfigParser, section: str, option: str, default: str = "") -> str:
    """An env's option, falling back to the common [env] section as PlatformIO does."""
    for sec in (section, "env"):
        if parser.has_option(sec, option):
            return _expand(parser.get(sec, option, raw=True), parser)
    return default


def read_project(ini: Path) -> Project:
    parser = configparser.ConfigParser(interpolation=None, inline_comment_prefixes=(";",))
    parser.optionxform = str  # option names are case-sensitive in PlatformIO
    try:
        with ini.open() as f:
            parser.read_file(f)
    except (OSError, configparser.Error) as e:
        raise BuildError(f"{ini}: {e}") from None
    root = ini.parent
    dirs = {k: root / _option(parser, "platformio", k, d)
            for k, d in (("src_dir", "src"), ("lib_dir", "lib"), ("include_dir", "include"))}
    envs = {}
    for section in parser.sections():
        if not section.startswith("env:"):
            continue
        name = section[4:]
        for key, want in (("platform", "atmelavr"), ("board", "uno"), ("framework", "arduino")):
            got = _option(parser, section, key)
            if got != want:
                raise BuildError(f"env {name}: {key} = {got!r}, this build knows only {want}")
        envs[name] = Env(name, re.findall(r"([+-])<([^>]*)>", _option(parser, section, "build_src_filter", "+<*>")),
                         shlex.split(_option(parser, section, "build_flags").replace("\n", " ")))
    return Project(root, dirs["src_dir"], dirs["lib_dir"], dirs["include_dir"], envs)


def select_sources(src_dir: Path, src_filter: list) -> list[Path]:
    """PlatformIO's build_src_filter: +<pattern> adds, -<pattern> removes, in order; `dir/` means all below it."""
    every = sorted(p.relative_to(src_dir).as_posix() for p in src_dir.rglob("*") if p.is_file())
    chosen: list[str] = []
    for sign, pattern in src_filter:
        hits = [p for p in every if (p.startswith(pattern) if pattern.endswith("/") else
                                     fnmatch.fnmatch(p, pattern) or p.startswith(pattern.rstrip("/") + "/"))]
        chosen = [p for p in chosen if p not in hits] + hits if sign == "+" else [p for p in chosen if p not in hits]
    return [src_dir / p for p in chosen if p.endswith(SOURCE_SUFFIXES)]


def _library_dirs(lib_dir: Path) -> dict[str, Path]:
    """Header name -> source folder of each library, project libraries first (they shadow the framework's)."""
    found: dict[str, Path] = {}
    for base in (lib_dir, FRAMEWORK_LIBS):
        for lib in sorted(base.iterdir()) if base.is_dir() else []:
            src = lib / "src" if (lib / "src").is_dir() else lib
            for header in src.glob("*.h"):
                found.setdefault(header.name, src)
    return found


def resolve_libraries(sources: list[Path], lib_dir: Path) -> list[Path]:
    """PlatformIO's dependency finder, chain mode: a library is used when a used file includes one of its headers."""
    libraries = _library_dirs(lib_dir)
    used: list[Path] = []
    queue = list(sources)
    seen: set[Path] = set()
    while queue:
        path = queue.pop()
        if path in seen:
            continue
        seen.add(path)
        for header in INCLUDE.findall(path.read_text(errors="replace")):
            src = libraries.get(Path(header).name)
            if src is not None and src not in used:
                used.append(src)
                queue.extend(p for p in src.rglob("*") if p.suffix in (".h", ".c", ".cpp", ".S"))
    return used


def _avr_size(elf: Path) -> tuple[int, int]:
    """Flash (Program) and static RAM (Data) bytes, as `avr-size -C` reports them."""
    done = subprocess.run(["avr-size", "-C", f"--mcu={MCU}", str(elf)], capture_output=True, text=True)
    program = re.search(r"Program:\s+(\d+)", done.stdout)
    data = re.search(r"Data:\s+(\d+)", done.stdout)
    if done.returncode != 0 or not program or not data:
        raise BuildError(f"avr-size could not read {elf}: {done.stderr.strip()}")
    return int(program.group(1)), int(data.group(1))


def pio_build(ini: Path, envs: list[str], out_root: Path | None) -> dict[str, tuple[int, int, Path]]:
    """Runs the real `pio run` for `envs` against the seeded core; returns {env: (flash, ram, elf)}."""
    try:
        core = pio_core.seed()
    except pio_core.SeedError as e:
        raise BuildError(str(e)) from None
    env = pio_core.environ(core)
    if out_root is not None:
        env["PLATFORMIO_BUILD_DIR"] = str(out_root.resolve())
    cmd = [*pio_core.pio_command(), "run", "--project-dir", str(ini.parent)]
    for name in envs:
        cmd += ["--environment", name]
    done = subprocess.run(cmd, env=env, capture_output=True, text=True)
    if done.returncode != 0:
        failed = [line for line in done.stdout.splitlines() + done.stderr.splitlines()
                  if "error" in line.lower() or "Error" in line]
        raise BuildError("pio run failed:\n" + "\n".join(failed[-20:] or done.stdout.splitlines()[-20:]))
    build_dir = out_root if out_root is not None else ini.parent / ".pio" / "build"
    sizes = {}
    for name in envs:
        elf = build_dir / name / "firmware.elf"
        sizes[name] = (*_avr_size(elf), elf)
    return sizes


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description="Build platformio.ini environments with `pio run` and print sizes.")
    ap.add_argument("envs", nargs="*", metavar="ENV", help="environments to build (default: all)")
    ap.add_argument("--ini", type=Path, default=Path(__file__).resolve().parents[2] / "platformio.ini")
    ap.add_argument("--out", type=Path, default=None, help="build folder (default: PlatformIO's .pio/build)")
    args = ap.parse_args(argv)
    try:
        project = read_project(args.ini)
        unknown = [e for e in args.envs if e not in project.envs]
        if unknown:
            print(f"unknown env {', '.join(unknown)}; {args.ini} has {', '.join(project.envs)}", file=sys.stderr)
            return 2
        for name, (flash, ram, _) in pio_build(args.ini, args.envs or list(project.envs), args.out).items():
            print(f"{name}: flash {flash} B, RAM {ram} B", flush=True)
    except BuildError as e:
        print(f"build.py: {e}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
