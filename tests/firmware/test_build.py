"""Every environment of platformio.ini builds with Debian's avr-gcc and stays inside the issue's size budgets.

The build goes through firmware/tools/build.py, which reads platformio.ini itself, so an env added there is built
here without a change to this file; an env without a budget fails. Sizes are deterministic for one toolchain, so
asserting them is fair. A missing toolchain fails the test (scripts/test.sh installs it), it never skips.
"""
import configparser
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
BUILD = ROOT / "firmware" / "tools" / "build.py"

# issue 5, section 4: (flash bytes, static RAM bytes) at most
BUDGETS = {
    "reporter_softserial": (8000, 600),
    "reporter_hwserial": (7000, 500),
    "http_get": (6000, 450),
    "bridge": (3300, 320),
}

def ini_envs():
    parser = configparser.ConfigParser(interpolation=None, inline_comment_prefixes=(";",))
    parser.read(ROOT / "platformio.ini")
    return [s[4:] for s in parser.sections() if s.startswith("env:")]


def build(tmp_path, *args):
    for tool in ("avr-gcc", "avr-size", "avr-objcopy", "avr-gcc-ar"):
        assert shutil.which(tool), f"{tool} missing: run scripts/setup.sh (apt-get install gcc-avr avr-libc arduino-core-avr)"
    done = subprocess.run([sys.executable, str(BUILD), "--out", str(tmp_path), *args], capture_output=True, text=True,
                          cwd=ROOT)
    assert done.returncode == 0, done.stderr
    return {m.group(1): (int(m.group(2)), int(m.group(3)))
            for m in re.finditer(r"^(\w+): flash (\d+) B, RAM (\d+) B$", done.stdout, re.M)}


@pytest.fixture(scope="module")
def sizes(tmp_path_factory):
    return build(tmp_path_factory.mktemp("fw"))


def test_every_env_has_a_budget():
    assert sorted(ini_envs()) == sorted(BUDGETS)


@pytest.mark.parametrize("env", sorted(BUDGETS))
def test_env_fits_its_budget(sizes, env):
    flash, ram = sizes[env]
    max_flash, max_ram = BUDGETS[env]
    assert flash <= max_flash and ram <= max_ram, f"{env}: flash {flash}/{max_flash} B, RAM {ram}/{max_ram} B"


def test_build_writes_elf_and_hex_per_env(tmp_path):
    got = build(tmp_path, "bridge")
    assert list(got) == ["bridge"]
    assert (tmp_path / "bridge" / "firmware.elf").stat().st_size > 0
    assert (tmp_path / "bridge" / "firmware.hex").read_text().startswith(":")


def test_flags_match_the_arduino_ide(tmp_path):
    """An empty sketch comes to what the IDE's recipe gives with this toolchain (avr-toolchain.md: 444 B / 9 B)."""
    project = tmp_path / "p"
    (project / "src" / "empty").mkdir(parents=True)
    (project / "platformio.ini").write_text(
        "[env:empty]\nplatform = atmelavr\nboard = uno\nframework = arduino\n")
    (project / "src" / "empty" / "main.cpp").write_text("#include <Arduino.h>\nvoid setup() {}\nvoid loop() {}\n")
    done = subprocess.run([sys.executable, str(BUILD), "--ini", str(project / "platformio.ini")],
                          capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "empty: flash 444 B, RAM 9 B"


def test_unknown_env_is_a_usage_error(tmp_path):
    done = subprocess.run([sys.executable, str(BUILD), "--out", str(tmp_path), "no_such_env"],
                          capture_output=True, text=True)
    assert done.returncode == 2
    assert done.stderr.count("\n") == 1 and "no_such_env" in done.stderr
