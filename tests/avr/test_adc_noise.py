"""The virtual Uno's ADC is noisy, as a board's is, seeded per run (issue 15).

Without noise every conversion of a fixed input gives the same number, so a sketch that makes its random id from
ADC noise (the reporter's incarnation) drew the same id on every run with a blank EEPROM. A small AVR program
prints 200 raw conversions of A0 against the 1.1 V reference; the reporter's own id is checked run against run.
"""
from __future__ import annotations

import socket
import subprocess
from pathlib import Path
from typing import List

import pytest

from unosim import Uno
from unotools import LM35_RESOLUTION_C, readings, wait_for_readings

SAMPLES = 200
A0_MV = 215
# prints SAMPLES conversions of A0 against 1.1 V as big-endian pairs at 115200 baud, then END
PROGRAM = r"""
#include <avr/io.h>
static void put(uint8_t b) { while (!(UCSR0A & _BV(UDRE0))) {} UDR0 = b; }
int main(void) {
  UCSR0A = _BV(U2X0); UBRR0 = 16;  /* 115200 at 16 MHz */
  UCSR0B = _BV(TXEN0);
  ADMUX = _BV(REFS1) | _BV(REFS0);  /* 1.1 V reference, channel A0 */
  ADCSRA = _BV(ADEN) | _BV(ADPS2) | _BV(ADPS1) | _BV(ADPS0);
  for (uint16_t i = 0; i < %d; i++) {
    ADCSRA |= _BV(ADSC);
    while (ADCSRA & _BV(ADSC)) {}
    uint16_t v = ADC;
    put(v >> 8); put(v & 0xFF);
  }
  put('E'); put('N'); put('D');
  for (;;) {}
}
""" % SAMPLES


@pytest.fixture(scope="module")
def sampler(tmp_path_factory) -> Path:
    work = tmp_path_factory.mktemp("adc")
    (work / "sampler.c").write_text(PROGRAM)
    elf = work / "sampler.elf"
    subprocess.run(["avr-gcc", "-mmcu=atmega328p", "-Os", "-o", str(elf), str(work / "sampler.c")], check=True)
    return elf


@pytest.fixture
def nowhere():
    """An ESP side that listens and says nothing: the sampler never talks to it."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(16)     # connections wait in the backlog, never accepted
    yield "127.0.0.1:%d" % listener.getsockname()[1]
    listener.close()


def conversions(elf: Path, esp: str, seed: int) -> List[int]:
    with Uno.sketch(elf, esp=esp, a0=A0_MV / 1000, pace=False, seed=seed) as uno:
        end = uno.wait_for(b"END", timeout=60)
    raw = uno.output[:end - 3]
    assert len(raw) == 2 * SAMPLES, raw
    return [raw[i] << 8 | raw[i + 1] for i in range(0, len(raw), 2)]


def test_conversions_scatter_within_the_readings_tolerance(sampler, nowhere):
    values = conversions(sampler, nowhere, seed=1)
    assert len(set(values)) >= 3, f"no noise: every conversion gave {sorted(set(values))}"
    for value in values:      # 1.1 V over 1024 steps; an LM35's 10 mV per °C
        assert abs(value * 1100 / 1024 - A0_MV) <= LM35_RESOLUTION_C * 10, values


def test_the_same_seed_gives_the_same_noise_and_another_seed_other_noise(sampler, nowhere):
    first = conversions(sampler, nowhere, seed=7)
    assert conversions(sampler, nowhere, seed=7) == first
    assert conversions(sampler, nowhere, seed=8) != first


def incarnation(firmware: Path, esp: str, server, seed: int) -> str:
    mark = len(readings(server))
    with Uno(esp, firmware=firmware, seed=seed):       # no --eeprom: a blank EEPROM every run
        got = wait_for_readings(server, 1, after=mark)[0]
    assert abs(got["readings"]["a0_c"] - 21.5) <= LM35_RESOLUTION_C, got
    return got["incarnation"]


def test_a_blank_eeprom_draws_a_new_incarnation_each_run_and_the_same_for_a_seed(built, server, fake):
    """Two runs with a blank EEPROM had the same id and both started at boot 1: the collector took the second
    run's readings for repeats of the first's and answered 200 without storing them."""
    firmware = built / "reporter_softserial" / "firmware.elf"
    first = incarnation(firmware, fake, server, seed=11)
    assert incarnation(firmware, fake, server, seed=12) != first
    assert incarnation(firmware, fake, server, seed=11) == first
