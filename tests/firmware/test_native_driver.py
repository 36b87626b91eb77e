"""The EspAt driver on its own, compiled with g++ against the Arduino shim and driven by a scripted module
(tests/firmware/driver_cases.cpp): the defects a board in the field meets -- a reset in the middle of +IPD, an
impossible +IPD length, CIPCLOSE's trailing OK, the dialect, `busy s...`, long replies, late OKs, the reset pin.
Needs g++: a missing compiler fails these tests, it does not skip them."""
import os
import subprocess
from pathlib import Path

import pytest

import native_cc
from fw_native import ROOT, SHIM

LIB = ROOT / "firmware" / "lib" / "EspAt" / "src"
CASES = Path(__file__).resolve().parent / "driver_cases.cpp"


def build(*flags):
    return native_cc.program("driver_cases", ["-std=gnu++11", "-O1", "-g", "-Wall", "-fpermissive", *flags,
                                              f"-I{SHIM}", f"-I{LIB}"],
                             [CASES, *sorted(LIB.glob("*.cpp")), SHIM / "shim.cpp"])


@pytest.fixture(scope="module")
def driver():
    return build()


def run(binary, name):
    # The shim's clock stands still but for the case's own after(ms) (ESPAT_SHIM_CLOCK_SCALE=0): a case checks a
    # bound to the millisecond (after(1999): not yet; after(2): now), and on the host's clock a loaded machine
    # that left the program unscheduled for a millisecond moved the bound (prompt-lost-in-an-exchange failed so).
    done = subprocess.run([str(binary)], env={**os.environ, "DRIVER_CASE": name, "ESPAT_SHIM_CLOCK_SCALE": "0"},
                          capture_output=True, text=True, timeout=60)
    assert (done.returncode, done.stdout) == (0, "ok\n"), done.stdout + done.stderr


@pytest.mark.parametrize("name", ["ipd-cut-by-reset", "ipd-too-long", "close-waits-for-its-ok", "dialect-from-gmr",
                                  "busy-sending", "reply-extends", "boot-loop", "exchange-bound", "two-oks-for-one-question",
                                  "hardware-reset", "payload-after-a-long-write",
                                  "prompt-lost-in-an-exchange", "prompt-lost-in-a-send",
                                  "passive-read-stalls-mid-frame", "uart-command"])
def test_driver_case(driver, name):
    run(driver, name)


def test_the_reset_pin_is_pulled_low_and_released(driver):
    run(driver, "hardware-reset-pin")


# +IPD heads longer than the driver's line buffer: the long CIPDINFO=1 forms, a length padded past the buffer, one
# that overflows 16 bits, a head that never ends. Also built with AddressSanitizer, which fails on any byte written
# past line_ (the driver is a global object and line_ its last member).
LONG_HEADS = ["ipd-remote-info-short", "ipd-remote-info-long", "ipd-length-past-buffer", "ipd-length-overflows",
              "ipd-head-never-ends"]


@pytest.fixture(scope="module")
def driver_asan():
    return build("-fsanitize=address,undefined", "-fno-sanitize-recover=all")


@pytest.mark.parametrize("name", LONG_HEADS)
def test_long_ipd_head(driver, name):
    run(driver, name)


@pytest.mark.parametrize("name", LONG_HEADS)
def test_long_ipd_head_writes_nothing_past_the_line(driver_asan, name):
    run(driver_asan, name)
