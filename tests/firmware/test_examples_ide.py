"""Every example of the EspAt library builds in the Arduino IDE too: Debian's `arduino-builder` (the IDE 1.8
build engine) with the library as the sketchbook's only library, in both wirings, its settings written as the
#define lines an IDE user edits at the top of the sketch. Sizes are the ones the IDE prints. An example added
under firmware/lib/EspAt/examples is built here without a change to this file. A missing tool fails the test."""
import importlib.util
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def _tool():
    spec = importlib.util.spec_from_file_location("espat_build_examples_ide",
                                                  ROOT / "firmware" / "tools" / "build_examples.py")
    module = importlib.util.module_from_spec(spec)
    sys.path.insert(0, str(ROOT / "firmware" / "tools"))
    spec.loader.exec_module(module)
    return module


TOOL = _tool()
SETTINGS = {"ESPAT_WIFI_SSID": "HomeNetwork-2G", "ESPAT_WIFI_PASS": "correct-horse-battery",
            "ESPAT_SERVER_HOST": "sensors.example.org", "ESPAT_SERVER_PORT": "8080"}


@pytest.mark.slow  # tests/README.md: the tiers (builds firmware with arduino-builder)
@pytest.mark.parametrize("wiring", ["soft", "serial"])
@pytest.mark.parametrize("name", TOOL.examples())
def test_example_builds_in_the_arduino_ide(tmp_path, tmp_path_factory, name, wiring):
    # The compiled core is kept between this worker's builds, as the IDE keeps it (a folder per worker: one
    # arduino-builder at a time writes it): 0.8 s of CPU less per build.
    core_cache = tmp_path_factory.getbasetemp() / "ide-core-cache"
    flash, ram, elf = TOOL.build_ide(name, wiring, tmp_path, environ=SETTINGS, core_cache=core_cache)
    print(f"{name} ({wiring}, arduino-builder): flash {flash} B, RAM {ram} B")
    assert elf.read_bytes()[:4] == b"\x7fELF"
    assert 0 < flash <= 32256 - 512 and 0 < ram <= 2048 - 700
    # The settings reached the build as an IDE user's #defines would: the SSID is in the program's flash.
    assert b"HomeNetwork-2G" in flash_image(elf)


def flash_image(elf):
    out = elf.with_suffix(".bin")
    done = subprocess.run(["avr-objcopy", "-O", "binary", "-j", ".text", "-j", ".data", str(elf), str(out)],
                          capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    return out.read_bytes()


def test_a_broken_example_fails_the_ide_build_with_its_error(tmp_path, monkeypatch):
    broken = tmp_path / "examples" / "Broken"
    broken.mkdir(parents=True)
    (broken / "Broken.ino").write_text("void setup() { undefined_call(); }\nvoid loop() {}\n")
    monkeypatch.setattr(TOOL, "EXAMPLES", tmp_path / "examples")
    with pytest.raises(TOOL.BuildError, match="undefined_call"):
        TOOL.build_ide("Broken", "soft", tmp_path / "out", environ={})
