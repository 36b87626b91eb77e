"""Every example of the EspAt library builds with the real `pio ci` (offline, on the project's own PlatformIO
platform) in both of its wirings: the ESP-01 on pins 2/3 (the default) and on pins 0/1 (ESP_ON_SERIAL=1). An
example added under firmware/lib/EspAt/examples is built here without a change to this file. Sizes are printed;
bench/firmware_size.py sets them beside the budgets. A missing tool fails the test, it never skips."""
import importlib.util
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def _tool():
    spec = importlib.util.spec_from_file_location("espat_build_examples",
                                                  ROOT / "firmware" / "tools" / "build_examples.py")
    module = importlib.util.module_from_spec(spec)
    sys.path.insert(0, str(ROOT / "firmware" / "tools"))
    spec.loader.exec_module(module)
    return module


TOOL = _tool()


def test_the_examples_are_the_ones_the_library_promises():
    assert {"WebClient", "HttpPost", "NtpTime", "Reporter"} <= set(TOOL.examples())


@pytest.mark.slow  # tests/README.md: the tiers (builds firmware with the real `pio ci`)
@pytest.mark.parametrize("wiring", ["soft", "serial"])
@pytest.mark.parametrize("name", TOOL.examples())
def test_example_builds(tmp_path, name, wiring):
    flash, ram, elf = TOOL.build(name, wiring, tmp_path, environ={})
    print(f"{name} ({wiring}): flash {flash} B, RAM {ram} B")
    assert elf.read_bytes()[:4] == b"\x7fELF"
    assert 0 < flash <= 32256 - 512 and 0 < ram <= 2048 - 700  # room for Optiboot, and for the stack


def test_a_setting_that_cannot_be_passed_is_a_clear_error(tmp_path):
    with pytest.raises(TOOL.BuildError, match="ESPAT_WIFI_PASS"):
        TOOL.build("WebClient", "soft", tmp_path, environ={"ESPAT_WIFI_PASS": 'pa"ss'})
