"""The reporter's EEPROM store, compiled with g++ against a fake EEPROM (tests/firmware/fake_eeprom) and checked
by tests/firmware/eeprom_cases.cpp at every byte of every write, with the torn byte at each of its 256 values:
the boot identity never gives a number already used (the former dword counter, torn at its 0x1FF -> 0x200 carry,
did: gave 0x100 again, and the collector threw away the new boot's readings as repeats); the queue recovers every
reading kept and not delivered, or counts it in `dropped`, and never makes one up; a blank EEPROM (an ISP upload)
starts clean; and each cell outlives 10 years of readings at one a minute.
Needs g++: a missing compiler fails these tests."""
import os
import re
import subprocess
from pathlib import Path

import pytest

import native_cc
from fw_native import ROOT

REPORTER = ROOT / "firmware" / "src" / "reporter"
HERE = Path(__file__).resolve().parent


@pytest.fixture(scope="module")
def cases():
    out = native_cc.program("eeprom_cases", ["-std=gnu++11", "-O2", "-Wall", f"-I{HERE / 'fake_eeprom'}", f"-I{REPORTER}"],
                            [HERE / "eeprom_cases.cpp", REPORTER / "boot_identity.cpp", REPORTER / "reading_queue.cpp"])
    return lambda name: subprocess.run([str(out)], env={**os.environ, "EEPROM_CASE": name}, capture_output=True,
                                       text=True, timeout=300)


@pytest.mark.parametrize("name", ["identity-torn", "queue-torn", "blank-restart"])
def test_recovered_after_a_cut_at_every_byte(cases, name):
    done = cases(name)
    assert done.returncode == 0 and done.stdout.endswith("ok\n"), done.stdout
    images = int(re.search(r"torn images checked: (\d+)", done.stdout).group(1))
    assert images >= 256 * 100  # the hook really ran over many writes


def test_the_check_catches_the_former_boot_counter(cases):
    """The same exhaustive check, on the former scheme (one dword, least significant byte first): it reuses."""
    done = cases("old-counter")
    assert done.returncode == 0 and "reused\n" in done.stdout, done.stdout


def test_every_cell_lasts_ten_years_at_one_reading_a_minute(cases):
    done = cases("wear")
    print(done.stdout)
    assert done.returncode == 0, done.stdout
    years = [float(y) for y in re.findall(r"last ([\d.]+) years", done.stdout)]
    assert len(years) == 2 and min(years) >= 10.0
