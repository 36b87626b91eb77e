"""Every example of the EspAt library builds with the real `pio ci` (offline, on the project's own PlatformIO
platform) in both of its wirings: the ESP-01 on pins 2/3 (the default) and on pins 0/1 (ESP_ON_SERIAL=1). An
example added under firmware/lib/EspAt/examples is built here without a change to this file. Sizes are printed;
bench/firmware_size.py sets them beside the budgets; the two examples issue 16 budgets (WebClient, MqttPublish)
are held to ceilings with a user's settings. A missing tool fails the test, it never skips."""
import importlib.util
import subprocess
import sys
from pathlib import Path

import pytest

from builds import build_example
from test_build import REALISTIC

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
def test_example_builds(tmp_path_factory, tmp_path, name, wiring):
    flash, ram, elf = build_example(tmp_path_factory, name, wiring, tmp_path, {})
    print(f"{name} ({wiring}): flash {flash} B, RAM {ram} B")
    assert elf.read_bytes()[:4] == b"\x7fELF"
    assert 0 < flash <= 32256 - 512 and 0 < ram <= 2048 - 700  # room for Optiboot, and for the stack


# (flash bytes, static RAM bytes) at most, built as bench/firmware_size.py builds them (pins 2/3, a user's settings).
# Issue 16 section 4's goals are 6,500 / 450 (WebClient) and 8,000 / 600 (MqttPublish). WebClient is there;
# MqttPublish's flash is not yet: these ceilings (the sizes measured, 6,476 / 375 and 8,126 / 447, a few bytes up
# for flash and about 10-20 B up for RAM; before this round 6,554 / 393 and 9,016 / 476, before that 6,808 / 387
# and 9,334 / 468, and 7,092 / 391 and 9,690 / 472 before that) keep both from growing back, and
# bench/firmware_size.py prints the distance to the goals.
EXAMPLE_CEILINGS = {"WebClient": (6488, 387), "MqttPublish": (8004, 459)}


@pytest.mark.slow
@pytest.mark.parametrize("name", sorted(EXAMPLE_CEILINGS))
def test_example_stays_under_its_ceiling_with_a_users_settings(tmp_path_factory, tmp_path, name):
    flash, ram, elf = build_example(tmp_path_factory, name, "soft", tmp_path, REALISTIC)
    print(f"{name} (soft, realistic): flash {flash} B, RAM {ram} B")
    max_flash, max_ram = EXAMPLE_CEILINGS[name]
    assert flash <= max_flash and ram <= max_ram, (flash, ram)
    # The core's IPAddress.h defines an INADDR_NONE with a start-up constructor in every file that includes it,
    # which links IPAddress::printTo; EspAtNet.h keeps both out of a sketch that never prints an address.
    symbols = subprocess.run(["avr-nm", "-C", str(elf)], capture_output=True, text=True, check=True).stdout
    assert "INADDR_NONE" not in symbols and "IPAddress::printTo" not in symbols


def test_a_setting_that_cannot_be_passed_is_a_clear_error(tmp_path):
    with pytest.raises(TOOL.BuildError, match="ESPAT_WIFI_PASS"):
        TOOL.build("WebClient", "soft", tmp_path, environ={"ESPAT_WIFI_PASS": 'pa"ss'})
