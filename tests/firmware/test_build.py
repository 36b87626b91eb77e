"""Every environment of platformio.ini builds with the real `pio run` (offline, on the project's own PlatformIO
platform) and stays inside the issue's size budgets, with the default settings and with a user's realistic ones.

The build goes through firmware/tools/build.py, which runs `pio run` and reads the sizes of what it built, so an
env added to platformio.ini is built here without a change to this file; an env without a budget fails. Sizes are
deterministic for one toolchain, so asserting them is fair. A missing tool fails the test (scripts/setup.sh
installs PlatformIO, the toolchain and the core), it never skips.
"""
import configparser
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

import builds

pytestmark = pytest.mark.slow     # tests/README.md: the tiers

ROOT = Path(__file__).resolve().parents[2]
BUILD = ROOT / "firmware" / "tools" / "build.py"

# (flash bytes, static RAM bytes) at most. http_get and bridge: issue 5, section 4. The reporters' goals (8,000 / 600
# and 7,000 / 500) were not met after issue 15's field work (EEPROM queue, boot identity, back-off, recovery ladder,
# diagnostics); both are met again. These ceilings (the sizes measured with a user's settings, plus a few bytes, and
# reporter_hwserial's at its goal, which it meets to the byte) keep the reporters from growing, and
# bench/firmware_size.py prints the distance to the goals. Measured 7,560 and 7,000 B (7,746 and 7,192 before this
# round: their own start with a vector table that ends at the last vector used, the library's small decimal writer
# and division in place of Print's printNumber and libgcc's 32-bit division, registers named so -mcall-prologues
# saves them, UART0's receive interrupt in assembly; 7,796 and 7,242 before the one before, 7,968 and 7,400 before
# that: no stack frame in main(), which is OS_main, its scratch in globals; the queue's pending count a byte of its
# own and the oldest reading read straight into
# the reading in flight; the sample due by a deadline's sign; smaller steps; 8,026 and 7,458 before the one before: the
# register allocator coloring by priority, no SSA coalescing; 8,140 and 7,554 before the driver's round; 8,352 and 7,792
# before that: the reading queue's state its newest record as it lies in EEPROM, the size flags searched again on the
# code as it is, the watchdog set once; 8,504 and 7,908 before the one before: the reading in flight without a virtual
# table, globals reached through one pointer, narrower shifts, one queue call for the verdicts that let a reading go,
# the library's second round; 9,046 and 8,414 before the one before: the POST's request as flash strings fixed at build
# time, the reporter's own clock and EEPROM loop in place of wiring.c's and avr-libc's calls, smaller steps; 9,548 and
# 8,878 before that).
BUDGETS = {
    "reporter_softserial": (7575, 600),
    "reporter_hwserial": (7000, 500),
    "http_get": (6000, 450),
    "bridge": (3300, 320),
    # issue 16 sets none: the driver with its Client parts, EspAtClient, the MQTT publisher and the discovery configs on
    # top of the reporter's modules (sampling, the EEPROM reading queue, boot identity, back-off, diag JSON, the shared
    # recovery module: about 2.3 KB more than the RAM ring they replaced); built with the reporters' size flags,
    # measured 11,954 with the realistic settings, of the Uno's 32,256 (before the examples' round: 12,234; before that,
    # 12,534; before that, 12,630; before that, 12,716,
    # the driver's round merged; before that 13,016; before that, 13,280 / 575 with the defaults, 13,364 / 575 with the
    # realistic settings; before that, 13,368 and 13,452; before that, 13,810 and 13,894; before that, 14,120 and
    # 14,204)
    "reporter_mqtt": (11970, 700),
}

# What a user's build really carries: names and a password longer than the defaults, a non-default port, and a
# 32-character bearer token for the collector.
REALISTIC = {
    "ESPAT_WIFI_SSID": "HomeNetwork-2G",
    "ESPAT_WIFI_PASS": "correct-horse-battery",
    "ESPAT_SERVER_HOST": "sensors.example.org",
    "ESPAT_SERVER_PORT": "8080",
    "ESPAT_SERVER_PATH": "/api/readings",
    "ESPAT_DEVICE": "greenhouse-uno-1",
    "ESPAT_INTERVAL_MS": "60000",
    "ESPAT_TOKEN": "3f9c2a7b41d8e6f0a5b3c9d27e4f1a86",
}
DEFAULTS = {name: "" for name in REALISTIC}  # empty means espat_config.h's defaults (platformio.ini's comment)


def ini_envs():
    parser = configparser.ConfigParser(interpolation=None, inline_comment_prefixes=(";",))
    parser.read(ROOT / "platformio.ini")
    return [s[4:] for s in parser.sections() if s.startswith("env:")]


def build(out, *args, settings=DEFAULTS, ini=None):
    for tool in ("avr-gcc", "avr-size", "avr-objcopy", "avr-gcc-ar"):
        assert shutil.which(tool), f"{tool} missing: run scripts/setup.sh (apt-get install gcc-avr avr-libc)"
    return builds.build_into(out, list(args), {**os.environ, **settings}, ini)


@pytest.fixture(scope="module")
def settings_builds(tmp_path_factory):
    """Every env with each settings, in the build folder the run keeps for every `pio run` (tests/builds.py,
    `build_envs`): OUT/SETTINGS/ENV/firmware.elf and .hex, and {settings: {env: (flash, ram)}}."""
    out = tmp_path_factory.mktemp("fw")
    return out, {name: builds.build_envs(tmp_path_factory, [], {**os.environ, **settings}, out / name)
                 for name, settings in (("defaults", DEFAULTS), ("realistic", REALISTIC))}


@pytest.fixture(scope="module")
def sizes(settings_builds):
    return settings_builds[1]


def test_every_env_has_a_budget():
    assert sorted(ini_envs()) == sorted(BUDGETS)


@pytest.mark.parametrize("settings", ["defaults", "realistic"])
@pytest.mark.parametrize("env", sorted(BUDGETS))
def test_env_fits_its_budget(sizes, env, settings):
    flash, ram = sizes[settings][env]
    max_flash, max_ram = BUDGETS[env]
    print(f"{env} ({settings}): flash {flash}/{max_flash} B, RAM {ram}/{max_ram} B")
    assert flash <= max_flash and ram <= max_ram, \
        f"{env} with {settings} settings: flash {flash}/{max_flash} B, RAM {ram}/{max_ram} B"


def test_settings_reach_the_firmware(sizes):
    """The realistic names are longer than the defaults: a build that ignored them would come out the same."""
    assert sizes["realistic"]["reporter_softserial"][0] > sizes["defaults"]["reporter_softserial"][0]


def test_the_shared_build_folder_gives_a_clean_builds_hex(settings_builds, tmp_path):
    """Every `pio run` of the suite builds in one folder kept for the run, one set of settings after another
    (tests/builds.py): the settings header is rewritten only when it changes (firmware/tools/pio_generate.py), so a
    build compiles again only what includes it, and links. What comes out must be what a clean build gives: here
    reporter_softserial (its main.cpp includes the settings header), built there after the defaults, and built
    clean. (The ELFs differ only in the name of the link's LTO temporary file, as two clean builds do.)"""
    got = build(tmp_path, "reporter_softserial", settings=REALISTIC)
    assert list(got) == ["reporter_softserial"]
    assert (tmp_path / "reporter_softserial" / "firmware.elf").read_bytes()[:4] == b"\x7fELF"
    hex_lines = (tmp_path / "reporter_softserial" / "firmware.hex").read_text().splitlines()
    assert hex_lines[0].startswith(":") and hex_lines[-1] == ":00000001FF"
    folder, sizes = settings_builds
    assert got["reporter_softserial"] == sizes["realistic"]["reporter_softserial"]
    clean = (tmp_path / "reporter_softserial" / "firmware.hex").read_bytes()
    assert (folder / "realistic" / "reporter_softserial" / "firmware.hex").read_bytes() == clean


def test_flags_match_the_arduino_ide(tmp_path):
    """An empty sketch comes to what the IDE's recipe gives with this toolchain (avr-toolchain.md: 444 B / 9 B)."""
    project = tmp_path / "p"
    (project / "src").mkdir(parents=True)
    (project / "platformio.ini").write_text(
        "[env:empty]\nplatform = atmelavr\nboard = uno\nframework = arduino\n")
    (project / "src" / "main.cpp").write_text("#include <Arduino.h>\nvoid setup() {}\nvoid loop() {}\n")
    assert build(tmp_path / "out", ini=project / "platformio.ini") == {"empty": (444, 9)}


def test_unknown_env_is_a_usage_error(tmp_path):
    done = subprocess.run([sys.executable, str(BUILD), "--out", str(tmp_path), "no_such_env"],
                          capture_output=True, text=True)
    assert done.returncode == 2
    assert done.stderr.count("\n") == 1 and "no_such_env" in done.stderr


def test_a_compile_error_fails_the_build_and_says_where(tmp_path):
    project = tmp_path / "p"
    (project / "src").mkdir(parents=True)
    (project / "platformio.ini").write_text("[env:broken]\nplatform = atmelavr\nboard = uno\nframework = arduino\n")
    (project / "src" / "main.cpp").write_text("#include <Arduino.h>\nvoid setup() { undeclared(); }\nvoid loop() {}\n")
    done = subprocess.run([sys.executable, str(BUILD), "--out", str(tmp_path / "out"), "--ini",
                           str(project / "platformio.ini")], capture_output=True, text=True, timeout=300)
    assert done.returncode == 1
    assert "main.cpp:2" in done.stderr and "undeclared" in done.stderr
