"""The virtual Uno's USB port as a real Uno's (issue 17): it follows the host's rate, and espat gets through the
bridge sketch on the first try, although opening the port resets the board into its bootloader.

A real Uno's USB chip sends and receives at the rate its host asked for; the ATmega's UART at the one its sketch
set. When they differ, each reads the other's bytes as junk. And the USB chip's DTR pulse on every open resets
the ATmega: Optiboot takes what arrives in its first second for itself.
"""
from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import pytest
import serial

from unosim import Uno
from unotools import until_answering

ESPAT = [sys.executable, "-m", "espat.cli"]
# echoes what UART0 receives and says `tick` about ten times a second, at 9600 baud (U2X, UBRR 207: 9615)
ECHO = r"""
#define F_CPU 16000000UL
#include <avr/io.h>
#include <util/delay.h>
static void put(uint8_t b) { while (!(UCSR0A & _BV(UDRE0))) {} UDR0 = b; }
int main(void) {
  UCSR0A = _BV(U2X0); UBRR0 = 207;
  UCSR0B = _BV(TXEN0) | _BV(RXEN0);
  for (uint16_t n = 0;; n++) {
    if (UCSR0A & _BV(RXC0)) put(UDR0);
    if (n % 1000 == 0) { const char *t = "tick\r\n"; while (*t) put(*t++); }
    _delay_us(100);
  }
}
"""


# says `tick` about twenty times a second, at 9600 baud, from inside a function: a return address is on the stack
# nearly all the time
IN_A_CALL = r"""
#define F_CPU 16000000UL
#include <avr/io.h>
#include <util/delay.h>
static void put(uint8_t b) { while (!(UCSR0A & _BV(UDRE0))) {} UDR0 = b; }
__attribute__((noinline)) static void tick(void) {
  _delay_ms(50);
  for (const char *t = "tick\r\n"; *t; t++) put(*t);
}
int main(void) {
  UCSR0A = _BV(U2X0); UBRR0 = 207;
  UCSR0B = _BV(TXEN0);
  for (;;) tick();
}
"""


def compiled(work: Path, source: str) -> Path:
    (work / "sketch.c").write_text(source)
    elf = work / "sketch.elf"
    subprocess.run(["avr-gcc", "-mmcu=atmega328p", "-Os", "-o", str(elf), str(work / "sketch.c")], check=True)
    return elf


@pytest.fixture(scope="module")
def echo(tmp_path_factory) -> Path:
    return compiled(tmp_path_factory.mktemp("echo"), ECHO)


def read_for(port: serial.Serial, until: bytes, seconds: float) -> bytes:
    """What the port gives until `until` is in it, or for `seconds` when it never is."""
    got = b""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline and until not in got:
        got += port.read(256)
    return got


def test_a_host_at_the_wrong_rate_reads_junk_and_sends_junk(echo, fake):
    with Uno(fake, firmware=echo) as uno, serial.Serial(uno.port, 9600, timeout=0.1) as usb:
        assert b"tick\r\n" in read_for(usb, b"tick\r\n", 20)      # past the bootloader, at the sketch's rate
        usb.write(b"ping")
        assert b"ping" in read_for(usb, b"ping", 5)
        usb.baudrate = 4800             # half the rate: each byte of the board's arrives as about half a byte
        usb.reset_input_buffer()        # what came at 9600 before the change
        usb.write(b"ping")
        heard = junk_of(usb, 13)[1:]     # (a byte on its way as the rate changed may still cross whole)
        assert b"tick" not in heard and b"ping" not in heard, heard
        assert set(heard) <= set(range(256)) - set(b"tickpng\r\n"), heard
        usb.baudrate = 9600             # the junk it sent at 4800 reached the sketch, whose echo is junk too
        usb.write(b"pong")
        assert b"pong" in read_for(usb, b"pong", 5)


def test_the_sketch_runs_on_after_the_bootloaders_watchdog_reset(tmp_path, fake):
    """Opening the port resets the board into Optiboot, which leaves by a watchdog reset a second later. The harness
    rearmed after that reset only once a periodic check found its timer gone, and painted the RAM (free-RAM
    measurement) then: over the stack of the sketch already running, whose next `ret` went to 0xA5A5 and crashed
    the emulator (the USB port then read as closed). It happened when the check fell inside a call, as the moment
    the port was opened shifted it: 7 runs in 120 of the echo sketch on a loaded machine, every run here."""
    uno = Uno(fake, firmware=compiled(tmp_path, IN_A_CALL))
    with uno, serial.Serial(uno.port, 9600, timeout=0.1) as usb:
        try:
            got = read_for(usb, b"tick\r\n" * 10, 30)
        except serial.SerialException:      # the harness is gone, and its end of the port with it
            got = b"(the port closed)"
        running = uno.running()
    assert b"tick\r\n" * 10 in got and running, (got, uno.stderr)


def junk_of(port: serial.Serial, count: int, seconds: float = 20) -> bytes:
    """`count` bytes from the port (within `seconds`, however slow a loaded machine runs the board)."""
    got = b""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline and len(got) < count:
        got += port.read(count - len(got))
    assert len(got) >= count, got
    return got


@pytest.fixture
def bridge(built, fake):
    with Uno(fake, firmware=built / "bridge" / "firmware.elf") as uno:
        yield uno.port


def test_at_through_the_bridge_works_on_the_first_try_every_time(bridge):
    """Each `espat at` opens the port and so resets the Uno; nothing else holds the port open."""
    for _ in range(2):
        done = subprocess.run([*ESPAT, "-p", bridge, "--baud", "9600", "at", "AT+GMR"], capture_output=True,
                              text=True, timeout=60)
        assert done.returncode == 0, done.stdout + done.stderr
        assert "AT version:" in done.stdout and "OK" in done.stdout


def test_detect_and_doctor_through_the_bridge_find_9600(bridge):
    done = subprocess.run([*ESPAT, "-p", bridge, "detect"], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stdout + done.stderr
    assert done.stdout.startswith("module answers at 9600 baud"), done.stdout
    done = subprocess.run([*ESPAT, "-p", bridge, "doctor"], capture_output=True, text=True, timeout=120)
    assert "[  OK] answers AT at 9600 baud" in done.stdout, done.stdout + done.stderr


def test_at_at_the_wrong_rate_through_the_bridge_gets_no_answer(bridge):
    with serial.Serial(bridge, 9600, timeout=0.5) as monitor:       # holds the port: no reset on espat's open
        until_answering(monitor)
        done = subprocess.run([*ESPAT, "-p", bridge, "--baud", "115200", "at", "AT"], capture_output=True,
                              text=True, timeout=60)
    assert done.returncode != 0 and "no answer to AT" in done.stderr, done.stdout + done.stderr
