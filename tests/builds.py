"""The one set of settings the firmware's envs are built with for the tests that run them in simavr (tests/avr, and
the e2e modules of tests/firmware), and those builds: every env of platformio.ini in one `pio run`, made once per
run for all workers (the `built` fixture of tests/conftest.py), and a library example with `pio ci` (`example`). A
module that needs other settings (a user's, a token, the field's) builds its own; one that can run on these takes
them from here, so nothing is built twice alike."""
from __future__ import annotations

import hashlib
import importlib.util
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

from workers import shared_artifact, shared_workdir

ROOT = Path(__file__).resolve().parents[1]
BUILD = ROOT / "firmware" / "tools" / "build.py"

SETTINGS = {"ESPAT_WIFI_SSID": "HomeNet", "ESPAT_WIFI_PASS": "s3cr3t99", "ESPAT_SERVER_HOST": "example.com",
            "ESPAT_SERVER_PORT": "80", "ESPAT_SERVER_PATH": "/api/readings", "ESPAT_DEVICE": "uno-test",
            "ESPAT_INTERVAL_MS": "2000"}


def build_environ(environ: dict) -> dict:
    """`environ` for the build: SETTINGS, and no other ESPAT_* variable a developer's shell may export (a token, an
    MQTT user): every run builds the same firmware wherever it runs."""
    return {**{k: v for k, v in environ.items() if not k.startswith("ESPAT_")}, **SETTINGS}


def build_into(out: Path, envs: list, environ: dict, ini: Path | None = None) -> dict:
    """firmware/tools/build.py's build of ENVS (every env when empty; of `ini`'s project when given) into OUT with
    the process environment `environ`: {env: (flash, ram)} as it prints them. A failed build fails the test with
    build.py's message."""
    cmd = [sys.executable, str(BUILD), "--out", str(out), *envs, *(["--ini", str(ini)] if ini else [])]
    done = subprocess.run(cmd, env=environ, capture_output=True, text=True, timeout=900)
    assert done.returncode == 0, done.stderr
    return {m.group(1): (int(m.group(2)), int(m.group(3)))
            for m in re.finditer(r"^(\w+): flash (\d+) B, RAM (\d+) B$", done.stdout, re.M)}


def build_envs(tmp_path_factory, envs: list, environ: dict, out: Path) -> dict:
    """firmware/tools/build.py's build (the real `pio run`) of ENVS (every env when empty) with the process
    environment `environ`: OUT/ENV/firmware.elf and .hex, and {env: (flash, ram)} as build.py prints them. It builds
    in the one folder this run keeps for every such build, one build at a time (`workers.shared_workdir`): the
    settings header is rewritten only when it changes (firmware/tools/pio_generate.py), so a build after one with
    other settings compiles again only what includes it, and links; the core and the library are compiled once a
    run (reporter_softserial: 1.3-1.5 s of CPU instead of 3.5). tests/firmware/test_build.py checks that what comes
    out is a clean build's HEX."""
    with shared_workdir(tmp_path_factory, "pio-run") as work:
        sizes = build_into(work, envs, environ)
        for env in sizes:
            (out / env).mkdir(parents=True, exist_ok=True)
            for name in ("firmware.elf", "firmware.hex"):
                shutil.copyfile(work / env / name, out / env / name)
    return sizes


def build_every_env(tmp_path_factory, out: Path) -> None:
    """OUT/ENV/firmware.elf and .hex for every env, with SETTINGS and nothing else of the shell's ESPAT_*."""
    build_envs(tmp_path_factory, [], build_environ(dict(os.environ)), out)


# what the examples read of them (an example's own build flags: firmware/tools/build_examples.py)
EXAMPLE_SETTINGS = {k: SETTINGS[k] for k in ("ESPAT_SERVER_HOST", "ESPAT_SERVER_PORT", "ESPAT_WIFI_SSID",
                                             "ESPAT_WIFI_PASS", "ESPAT_SERVER_PATH")}


def _examples_tool():
    if "espat_build_examples_shared" in sys.modules:
        return sys.modules["espat_build_examples_shared"]
    spec = importlib.util.spec_from_file_location("espat_build_examples_shared",
                                                  ROOT / "firmware" / "tools" / "build_examples.py")
    module = importlib.util.module_from_spec(spec)
    sys.path.insert(0, str(ROOT / "firmware" / "tools"))
    spec.loader.exec_module(module)
    sys.modules["espat_build_examples_shared"] = module
    return module


def build_example(tmp_path_factory, name: str, wiring: str, out: Path, environ: dict) -> tuple[int, int, Path]:
    """firmware/tools/build_examples.py's build (`pio ci`) of example `name` into OUT/NAME, in a build folder this run
    keeps for the same wiring and settings: the Arduino core and the library are compiled once for them, not once
    per example (1.2-1.3 s of CPU a build instead of 2.7-3.1; the same HEX as from a fresh folder)."""
    tool = _examples_tool()
    key = hashlib.sha256("\0".join(tool.flags(wiring, environ)).encode()).hexdigest()[:16]
    with shared_workdir(tmp_path_factory, f"pio-ci-{key}") as work:
        return tool.build(name, wiring, out, environ=environ, work=work)


def example(tmp_path_factory, name: str) -> Path:
    """The ELF of library example `name` built with the real `pio ci` (soft-serial wiring) on EXAMPLE_SETTINGS,
    once per run for all workers."""
    folder = shared_artifact(tmp_path_factory, f"example-{name}",
                             lambda out: build_example(tmp_path_factory, name, "soft", out, EXAMPLE_SETTINGS))
    return folder / name / "firmware.elf"
