#!/usr/bin/env python3
"""Build every environment of platformio.ini with Debian's avr-gcc, as the Arduino IDE builds for the Uno.

PlatformIO cannot fetch its AVR platform offline, so CI builds the same environments from the same sources with the
distribution's toolchain (gcc-avr, avr-libc, arduino-core-avr). platformio.ini stays the one source of truth: the
environments, their source filters and build flags are read from it, so a new env cannot go unbuilt.

    python firmware/tools/build.py [ENV ...] [--ini platformio.ini] [--out build/firmware]

Prints `NAME: flash N B, RAM M B` per environment (avr-size) and writes OUT/NAME/firmware.elf and .hex.
Standard library only.
"""
from __future__ import annotations

import argparse
import configparser
import fnmatch
import os
import re
import shlex
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

ARDUINO = Path(os.environ.get("ESPAT_ARDUINO_AVR", "/usr/share/arduino/hardware/arduino/avr"))
CORE = ARDUINO / "cores" / "arduino"
VARIANT = ARDUINO / "variants" / "standard"
FRAMEWORK_LIBS = ARDUINO / "libraries"

# The Arduino IDE's Uno recipe (boards.txt + platform.txt of arduino-core-avr 1.8.7). The core's WString.cpp
# needs DECIMAL_DIG, which avr-gcc 5.4 defines for C99 C only, never for C++.
MCU = "atmega328p"
COMMON = ["-Os", "-g", "-flto", "-ffunction-sections", "-fdata-sections", f"-mmcu={MCU}", "-DF_CPU=16000000L",
          "-DARDUINO=10807", "-DARDUINO_AVR_UNO", "-DARDUINO_ARCH_AVR", "-DDECIMAL_DIG=__DECIMAL_DIG__"]
CXXFLAGS = ["-std=gnu++11", "-fpermissive", "-fno-exceptions", "-fno-threadsafe-statics"]
CFLAGS = ["-std=gnu11"]
ASFLAGS = ["-x", "assembler-with-cpp"]
LDFLAGS = ["-Os", "-g", "-flto", "-fuse-linker-plugin", "-Wl,--gc-sections", f"-mmcu={MCU}"]
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


def _tool(name: str) -> str:
    path = shutil.which(name)
    if path is None:
        raise BuildError(f"{name} not found: install gcc-avr, binutils-avr, avr-libc and arduino-core-avr")
    return path


def _run(cmd: list[str]) -> str:
    done = subprocess.run(cmd, capture_output=True, text=True)
    if done.returncode != 0:
        raise BuildError(f"{Path(cmd[0]).name} failed:\n{done.stderr.strip() or done.stdout.strip()}")
    return done.stdout


def _compile(src: Path, obj: Path, includes: list[Path], flags: list[str]) -> Path:
    obj.parent.mkdir(parents=True, exist_ok=True)
    if src.suffix == ".cpp":
        lang = CXXFLAGS
    elif src.suffix == ".c":
        lang = CFLAGS
    else:
        lang = ASFLAGS
    _run([_tool("avr-gcc"), "-c", *COMMON, *lang, *flags, *[f"-I{i}" for i in includes], str(src), "-o", str(obj)])
    return obj


def _sources_in(folder: Path) -> list[Path]:
    return sorted(p for p in folder.rglob("*") if p.suffix in SOURCE_SUFFIXES)


def build_env(project: Project, env: Env, out_root: Path) -> tuple[int, int, Path]:
    if not CORE.is_dir():
        raise BuildError(f"{CORE} missing: install arduino-core-avr")
    sources = select_sources(project.src_dir, env.src_filter)
    if not sources:
        raise BuildError(f"env {env.name}: build_src_filter selects no sources under {project.src_dir}")
    libraries = resolve_libraries(sources, project.lib_dir)
    includes = [CORE, VARIANT, project.include_dir, *libraries]
    out = out_root / env.name
    if out.exists():
        shutil.rmtree(out)
    # The core goes into an archive so unused parts (HardwareSerial's ISRs) drop out, as in the IDE.
    core_objs = [_compile(s, out / "core" / (s.name + ".o"), includes, env.build_flags) for s in _sources_in(CORE)]
    core_a = out / "core.a"
    _run([_tool("avr-gcc-ar"), "rcs", str(core_a), *map(str, core_objs)])
    objs = [_compile(s, out / "src" / (s.relative_to(project.src_dir).as_posix().replace("/", "_") + ".o"),
                     includes, env.build_flags) for s in sources]
    for lib in libraries:
        objs += [_compile(s, out / "lib" / lib.parent.name / (s.name + ".o"), includes, env.build_flags)
                 for s in _sources_in(lib)]
    elf = out / "firmware.elf"
    _run([_tool("avr-gcc"), *LDFLAGS, "-o", str(elf), *map(str, objs), str(core_a), f"-L{out}", "-lm"])
    _run([_tool("avr-objcopy"), "-O", "ihex", "-R", ".eeprom", str(elf), str(out / "firmware.hex")])
    flash, ram = elf_size(elf)
    return flash, ram, elf


def elf_size(elf: Path) -> tuple[int, int]:
    """Flash (Program) and static RAM (Data) bytes, as `avr-size -C` reports them."""
    text = _run([_tool("avr-size"), "-C", f"--mcu={MCU}", str(elf)])
    program = re.search(r"Program:\s+(\d+)", text)
    data = re.search(r"Data:\s+(\d+)", text)
    if not program or not data:
        raise BuildError(f"avr-size printed nothing readable for {elf}")
    return int(program.group(1)), int(data.group(1))


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description="Build platformio.ini environments with Debian's avr-gcc.")
    ap.add_argument("envs", nargs="*", metavar="ENV", help="environments to build (default: all)")
    ap.add_argument("--ini", type=Path, default=Path(__file__).resolve().parents[2] / "platformio.ini")
    ap.add_argument("--out", type=Path, default=None, help="output folder (default: build/firmware by the ini)")
    args = ap.parse_args(argv)
    try:
        project = read_project(args.ini)
        unknown = [e for e in args.envs if e not in project.envs]
        if unknown:
            print(f"unknown env {', '.join(unknown)}; {args.ini} has {', '.join(project.envs)}", file=sys.stderr)
            return 2
        out_root = args.out or project.root / "build" / "firmware"
        for name in args.envs or list(project.envs):
            flash, ram, _ = build_env(project, project.envs[name], out_root)
            print(f"{name}: flash {flash} B, RAM {ram} B", flush=True)
    except BuildError as e:
        print(f"build.py: {e}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
