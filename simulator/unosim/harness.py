"""The AVR harness's process: building it, a seed for its ADC noise, ending it. board.py's `Uno` runs it.

The C harness (uno_harness.c and every other .c file beside it, their headers uno.h and harness_parts.h) is compiled
on first use against Debian's libsimavr-dev and kept in a cache keyed by its sources (names and contents), the
compiler's version and simavr's, so a changed harness or toolchain builds it again and an unchanged one does not.
"""
from __future__ import annotations

import functools
import hashlib
import os
import random
import shutil
import subprocess
from pathlib import Path
from typing import List, Optional, Tuple

__all__ = ["HarnessError", "build_harness", "cache_dir", "close_streams", "end_harness", "new_seed"]

SOURCE = Path(__file__).with_name("uno_harness.c")


def harness_sources() -> List[Path]:
    """The harness's C files and headers: every one in this folder, so a file split off is never left out."""
    folder = SOURCE.parent
    return sorted(folder.glob("*.c")) + sorted(folder.glob("*.h"))


class HarnessError(RuntimeError):
    """The AVR harness could not be built or run."""


def cache_dir() -> Path:
    """Where the compiled harness and Optiboot are kept (XDG cache)."""
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "espat" / "avr"


@functools.lru_cache(maxsize=None)
def _toolchain() -> Tuple[List[str], bytes]:
    """simavr's compile and link flags, and what identifies the build beyond the sources: the compiler's version
    and simavr's (an upgraded libsimavr-dev builds the harness again)."""
    for tool, package in (("gcc", "gcc"), ("pkg-config", "pkg-config")):
        if shutil.which(tool) is None:
            raise HarnessError(f"{tool} not found: apt-get install {package}")
    flags = subprocess.run(["pkg-config", "--cflags", "--libs", "simavr"], capture_output=True, text=True)
    if flags.returncode != 0:
        raise HarnessError("simavr's development files not found: apt-get install libsimavr-dev libelf-dev")
    version = subprocess.run(["pkg-config", "--modversion", "simavr"], capture_output=True).stdout
    compiler = subprocess.run(["gcc", "--version"], capture_output=True).stdout
    return flags.stdout.split(), compiler + b"\0" + version + b"\0" + flags.stdout.encode()


def harness_key(sources: List[Path], toolchain: bytes) -> str:
    """The cached harness's name: every source by name and content, and the toolchain."""
    digest = hashlib.sha256(toolchain)
    for path in sources:
        digest.update(b"\0" + path.name.encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()[:16]


def build_harness(cache: Optional[Path] = None) -> Path:
    """The path of the compiled harness, building it if needed; HarnessError says what is missing."""
    sources = harness_sources()
    flags, toolchain = _toolchain()
    target = (cache or cache_dir()) / f"uno_harness-{harness_key(sources, toolchain)}"
    if target.exists():
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_suffix(f".{os.getpid()}.tmp")
    cmd = ["gcc", "-O2", "-Wall", "-o", str(partial), *(str(p) for p in sources if p.suffix == ".c"), *flags,
           "-lelf"]
    built = subprocess.run(cmd, capture_output=True, text=True)
    if built.returncode != 0:
        raise HarnessError(f"building the AVR harness failed:\n{built.stderr.strip()}")
    partial.replace(target)
    return target


def new_seed() -> int:
    """A seed for a run's ADC noise when none is given: each run a different one, as each power-on of a board."""
    return random.SystemRandom().randrange(1 << 32)


def end_harness(proc: subprocess.Popen) -> int:
    """SIGTERM (the harness then writes its EEPROM and flash files back), SIGKILL if it hangs; its exit status."""
    if proc.poll() is None:
        proc.terminate()
    try:
        return proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        proc.kill()
        return proc.wait(timeout=10)


def close_streams(proc: subprocess.Popen) -> bytes:
    """Closes an ended harness's pipes; returns what it wrote on stderr."""
    err = proc.stderr.read() if proc.stderr else b""
    for stream in (proc.stdin, proc.stdout, proc.stderr):
        if stream is not None:
            stream.close()
    return err
