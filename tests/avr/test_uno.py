"""The virtual Uno (`espat uno`): what a user without a board does, done here end to end.

Sketches are built with the real `pio run` (firmware/tools/build.py), uploaded through the pty with real avrdude
or `pio run -t upload`, and run by simavr with Optiboot built from Debian's source; the ESP-01 is the fake module
and the server a loopback HTTP server that keeps every request. Needs PlatformIO, avrdude, gcc-avr, simavr and
libsimavr-dev (scripts/setup.sh installs them): a missing one fails these tests.
"""
from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest
import serial

from unosim import ImageError, Uno
from unosim.image import BOOT_SECTION
from unotools import (LM35_RESOLUTION_C, MIN_FREE_RAM, SETTINGS, read_until_seen, readings, until_answering,
                      wait_for_readings)

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "firmware" / "tools"))
import pio_core  # noqa: E402

GMR_ANSWER = rb"AT version:.*\r\nOK\r\n"      # AT+GMR's answer, up to its OK


def avrdude(port: str, hex_path: Path) -> subprocess.CompletedProcess:
    return subprocess.run(["avrdude", "-p", "m328p", "-c", "arduino", "-b", "115200", "-D", "-P", port,
                           "-U", f"flash:w:{hex_path}:i"], capture_output=True, text=True, timeout=120)


def test_avrdude_uploads_and_the_reporter_posts_what_the_pins_see(built, server, fake, tmp_path):
    """A blank board gets the reporter through Optiboot; A0 and Vcc are what the readings say, also after a
    change during the run."""
    flash = tmp_path / "uno.flash"
    with Uno(fake, flash=flash, analog={"A0": 0.300}, vcc=4.8) as uno:
        done = avrdude(uno.port, built / "reporter_softserial" / "firmware.hex")
        assert done.returncode == 0, done.stderr
        assert "bytes of flash verified" in done.stderr
        first = wait_for_readings(server, 2)
        uno.set_analog("A0", 0.450)
        mark = len(readings(server))
        later = wait_for_readings(server, 2, after=mark)[-1]
    for reading in first:
        assert abs(reading["readings"]["a0_c"] - 30.0) <= LM35_RESOLUTION_C, reading
        assert abs(reading["readings"]["vcc_mv"] - 4800) <= 50, reading
    assert abs(later["readings"]["a0_c"] - 45.0) <= LM35_RESOLUTION_C, later
    assert first[0]["device"] == "uno-test"
    # the flash file kept the upload: the next power-on runs the sketch without one
    image = flash.read_bytes()
    sketch = (built / "reporter_softserial" / "firmware.elf")
    from unosim.image import read_firmware
    code = read_firmware(sketch)
    assert image[:len(code)] == code


def test_flash_file_keeps_the_sketch_across_power_cycles(built, server, fake, tmp_path):
    flash = tmp_path / "uno.flash"
    with Uno(fake, flash=flash) as uno:
        assert avrdude(uno.port, built / "reporter_softserial" / "firmware.hex").returncode == 0
    with Uno(fake, flash=flash, analog={"A0": 0.2}):
        got = wait_for_readings(server, 1)
    assert abs(got[0]["readings"]["a0_c"] - 20.0) <= LM35_RESOLUTION_C


def test_pio_run_upload_to_the_virtual_uno(server, fake, tmp_path):
    """`pio run -t upload --upload-port <pty>`: PlatformIO builds and calls avrdude itself."""
    with Uno(fake, analog={"A0": 0.250}) as uno:
        env = {**pio_core.environ(), **SETTINGS, "PLATFORMIO_BUILD_DIR": str(tmp_path / "build")}
        done = subprocess.run([*pio_core.pio_command(), "run", "-d", str(ROOT), "-e", "reporter_softserial",
                               "-t", "upload", "--upload-port", uno.port], env=env, capture_output=True, text=True,
                              timeout=600)
        assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
        assert "bytes of flash verified" in done.stdout + done.stderr
        got = wait_for_readings(server, 1)
    assert abs(got[0]["readings"]["a0_c"] - 25.0) <= LM35_RESOLUTION_C


def test_espat_at_reaches_the_fake_through_the_bridge_sketch(built, fake):
    """Opening the port resets the Uno, as on a board; a serial monitor kept open (here `monitor`, which reads
    nothing while espat runs) holds DTR, so espat's own open does not reset it again."""
    with Uno(fake, firmware=built / "bridge" / "firmware.elf") as uno:
        with serial.Serial(uno.port, 9600, timeout=0.5) as monitor:
            until_answering(monitor)
            done = subprocess.run([sys.executable, "-m", "espat.cli", "-p", uno.port, "--baud", "9600", "at", "AT",
                                   "AT+GMR"], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "OK" in done.stdout and "AT version:" in done.stdout


@pytest.mark.parametrize("env", sorted(MIN_FREE_RAM))
def test_free_ram_at_the_low_water_mark(built, server, fakes, env):
    """Stack painting: SRAM above the variables is filled at reset; what no stack frame overwrote is free."""
    wiring = "hwserial" if env == "reporter_hwserial" else "softserial"
    esp = fakes(115200 if wiring == "hwserial" else 9600)
    with Uno(esp, wiring=wiring, firmware=built / env / "firmware.elf") as uno:
        if env.startswith("reporter"):
            wait_for_readings(server, 2)     # the deepest paths: join, connect, post, answer
        elif env == "bridge":
            with serial.Serial(uno.port, 9600, timeout=0.5) as usb:     # both ways through the sketch
                until_answering(usb)
                usb.write(b"AT+GMR\r\n")
                # the whole answer, up to its OK (an OK alone may still be one of until_answering's ATs')
                answer = read_until_seen(usb, GMR_ANSWER)
            assert re.search(GMR_ANSWER, answer, re.S), answer
        else:                                # http_get: a whole page, then its outcome
            with serial.Serial(uno.port, 115200, timeout=0.5) as usb:
                page = read_until_seen(usb, rb"HTTP status \d+\r\n|failed at stage")
            assert re.search(rb"HTTP status 20\d", page), page[-300:]     # the server's answer came through
        free = uno.free_ram()
    print(f"{env}: {free} B of SRAM free at the low-water mark")
    assert free >= MIN_FREE_RAM[env], f"{env}: {free} B free, at least {MIN_FREE_RAM[env]} wanted"


def test_a_hex_that_does_not_fit_is_refused(tmp_path, fake):
    big = tmp_path / "big.hex"
    lines = []
    for address in range(0, BOOT_SECTION + 16, 16):
        record = bytes([16, address >> 8 & 0xFF, address & 0xFF, 0]) + bytes(16)
        lines.append(":" + (record + bytes([-sum(record) & 0xFF])).hex().upper())
    big.write_text("\n".join(lines + [":00000001FF"]) + "\n")
    with pytest.raises(ImageError, match=r"needs 32272 bytes of flash; the Uno has 32256"):
        Uno(fake, firmware=big).start()
    done = subprocess.run([sys.executable, "-m", "espat.cli", "uno", "--firmware", str(big)], capture_output=True,
                          text=True, timeout=60)
    assert done.returncode == 2
    assert "needs 32272 bytes" in done.stderr and "Traceback" not in done.stderr


def test_a_sketch_for_another_board_is_refused(tmp_path, fake):
    source = tmp_path / "mega.c"
    source.write_text("int main(void) { for (;;) {} }\n")
    elf = tmp_path / "mega.elf"
    subprocess.run(["avr-gcc", "-mmcu=atmega2560", "-Os", str(source), "-o", str(elf)], check=True)
    with pytest.raises(ImageError, match="built for atmega2560, not the Uno's atmega328p"):
        Uno(fake, firmware=elf).start()
    host = tmp_path / "host.elf"
    subprocess.run(["gcc", str(source), "-o", str(host)], check=True)
    with pytest.raises(ImageError, match="not an AVR program"):
        Uno(fake, firmware=host).start()


def test_one_uno_class_refuses_what_its_run_cannot_do(tmp_path):
    """A sketch run's USB serial is the harness's stdin and stdout: it has no control lines and no ESP pins to
    report on, so asking for them is refused when the Uno is built, not ignored; a board takes no sketch-run knobs."""
    elf = tmp_path / "sketch.elf"
    with pytest.raises(ValueError, match="wires no ESP pins"):
        Uno("127.0.0.1:1", firmware=elf, usb="pipes")                  # the board's RST wire on pin 4
    with pytest.raises(ValueError, match="sets A0 only"):
        Uno("127.0.0.1:1", firmware=elf, usb="pipes", esp_rst=None, analog={"A1": 1.0})
    with pytest.raises(ValueError, match="takes the sketch's ELF"):
        Uno("127.0.0.1:1", usb="pipes", esp_rst=None)
    with pytest.raises(ValueError, match="a sketch run's"):
        Uno("127.0.0.1:1", seconds=3)
    uno = Uno.sketch(elf, esp="127.0.0.1:1", a0=0.25, seed=7)
    assert (uno.port, uno.analog, uno.seed, uno.esp_pins) == (None, {"A0": 0.25}, 7, {"rst": None, "ch_pd": None})
    with pytest.raises(Exception, match="no control lines"):
        uno.set_vcc(4.5)
