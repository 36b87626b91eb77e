#!/usr/bin/env python3
"""Seed a private PlatformIO core folder so `pio run` works offline with `platform = atmelavr`.

PlatformIO's own AVR platform and its SCons package come from PlatformIO's registry, which CI cannot reach. The
project carries a small platform of its own under firmware/platform (Debian's avr-gcc, Arduino core and avrdude);
this script puts it, and SCons from PyPI in the package shape PlatformIO looks for, into a core folder:

    python firmware/tools/pio_core.py            # seeds .pio-core/ (idempotent); prints the folder
    export PLATFORMIO_CORE_DIR=$PWD/.pio-core     # scripts/setup.sh does both
    pio run -e bridge

The platform is installed as a symlink, so edits under firmware/platform need no reinstall. `environ()` gives the
variables a subprocess needs to use the seeded core.
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PLATFORM = ROOT / "firmware" / "platform"
CORE_DIR = ROOT / ".pio-core"
SCONS_VERSION = "4.11.1"
# PlatformIO 6.2 asks for platformio/tool-scons ~4.41101.0 (= SCons 4.11.1) and takes only a package whose
# metadata names the owner `platformio`.
SCONS_PACKAGE_VERSION = "4.41101.0"
SCONS_LAUNCHER = """\
import os, sys
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from SCons.Script.Main import main
main()
"""


class SeedError(Exception):
    """Seeding cannot go on; the message is one line for the user."""


def environ(core_dir: Path = CORE_DIR) -> dict:
    """os.environ plus what makes `pio` use the seeded core quietly and offline."""
    return {**os.environ, "PLATFORMIO_CORE_DIR": str(core_dir), "PLATFORMIO_SETTING_ENABLE_TELEMETRY": "no",
            "PLATFORMIO_SETTING_CHECK_PLATFORMIO_INTERVAL": "3650", "PLATFORMIO_SETTING_CHECK_PRUNE_SYSTEM_THRESHOLD": "0"}


def pio_command() -> list:
    """`pio` of the Python running this (the project's venv), as a module so no PATH is needed."""
    return [sys.executable, "-m", "platformio"]


def _seed_scons(core_dir: Path) -> None:
    target = core_dir / "packages" / "tool-scons"
    meta = target / ".piopm"
    if meta.exists() and json.loads(meta.read_text()).get("version") == SCONS_PACKAGE_VERSION:
        return
    done = subprocess.run([sys.executable, "-m", "pip", "install", "-q", "--no-deps", "--upgrade", "--target",
                           str(target), f"scons=={SCONS_VERSION}"], capture_output=True, text=True)
    if done.returncode != 0:
        raise SeedError(f"pip could not install scons=={SCONS_VERSION}: {done.stderr.strip().splitlines()[-1:]}")
    (target / "scons.py").write_text(SCONS_LAUNCHER)
    (target / "package.json").write_text(json.dumps({"name": "tool-scons", "version": SCONS_PACKAGE_VERSION}))
    from platformio.package.meta import PackageMetadata, PackageSpec, PackageType

    PackageMetadata(PackageType.TOOL, "tool-scons", SCONS_PACKAGE_VERSION,
                    PackageSpec(owner="platformio", name="tool-scons")).dump(str(meta))


def _seed_platform(core_dir: Path) -> None:
    uri = "symlink://" + str(PLATFORM)
    links = list((core_dir / "platforms").glob("*.pio-link"))
    if any(json.loads(link.read_text()).get("spec", {}).get("uri") == uri for link in links):
        return
    for stale in links:  # a clone that moved leaves a link to where it was
        stale.unlink()
    done = subprocess.run([*pio_command(), "pkg", "install", "--global", "--platform", uri],
                          env=environ(core_dir), capture_output=True, text=True)
    if done.returncode != 0:
        raise SeedError(f"pio could not install {PLATFORM}: {(done.stderr or done.stdout).strip()}")


def seed(core_dir: Path = CORE_DIR) -> Path:
    try:
        import platformio  # noqa: F401
    except ImportError:
        raise SeedError("PlatformIO is not installed: pip install platformio (scripts/setup.sh does)") from None
    core_dir.mkdir(parents=True, exist_ok=True)
    _seed_scons(core_dir)
    _seed_platform(core_dir)
    return core_dir


def main() -> int:
    try:
        print(seed())
    except SeedError as e:
        print(f"pio_core.py: {e}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
