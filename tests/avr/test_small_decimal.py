"""The library's small decimal writer and division in assembly (EspAtDecimal.S, ESPAT_SMALL_DECIMAL 1), run in
simavr: for numbers at every width and at the edges, the bytes Print::print(unsigned long) writes (and with the
point, print(n / 10), '.', print(n % 10)), and the quotient of n / d. The reporters' end-to-end runs meet only the
numbers their readings have; this meets the widest. Missing gcc-avr or simavr fails the test (scripts/setup.sh).
"""
from __future__ import annotations

import subprocess
from pathlib import Path

from unosim import Uno

ROOT = Path(__file__).resolve().parents[2]
LIBRARY = ROOT / "firmware" / "lib" / "EspAt" / "src"

NUMBERS = [0, 1, 9, 10, 11, 99, 100, 101, 255, 256, 999, 1000, 9999, 10000, 65535, 65536, 99999, 100000, 999999,
           1000000, 9999999, 10000000, 99999999, 100000000, 999999999, 1000000000, 1234567890, 2147483647,
           2147483648, 4294967294, 4294967295]
TENTHS = [0, 1, 5, 9, 10, 11, 99, 100, 125, 214, 1213, 9999, 32767, 65535, 4294967295]
DIVISIONS = [(0, 1), (1125300, 225), (1125300, 1023), (1125300, 1), (1125300, 17), (4294967295, 1),
             (4294967295, 10), (4294967295, 32767), (4294967295, 65535 // 2), (12345, 12346), (100, 10), (99, 100)]

PROGRAM = r"""
#include <avr/io.h>
#include <stddef.h>
#include <stdint.h>

// What the writer needs of a Print: write(uint8_t) first in its virtual table. UART0, as the USB port.
struct Out {
  virtual size_t write(uint8_t c) {
    UDR0 = c;
    loop_until_bit_is_set(UCSR0A, UDRE0);
    return 1;
  }
};
extern "C" void espat_decimal(Out& out, uint32_t n, uint8_t tenths);
extern "C" uint32_t espat_divide(uint32_t n, uint16_t d);

const uint32_t kNumbers[] = {NUMBERS};
const uint32_t kTenths[] = {TENTHS};
const uint32_t kDividends[] = {DIVIDENDS};
const uint16_t kDivisors[] = {DIVISORS};

int main() {
  UCSR0A = _BV(U2X0);
  UBRR0 = 16;  // 115200
  UCSR0B = _BV(TXEN0);
  Out out;
  for (uint32_t n : kNumbers) {
    espat_decimal(out, n, 0);
    out.write('\n');
  }
  for (uint32_t n : kTenths) {
    espat_decimal(out, n, 1);
    out.write('\n');
  }
  for (uint8_t i = 0; i < sizeof kDivisors / sizeof *kDivisors; i++) {
    espat_decimal(out, espat_divide(kDividends[i], kDivisors[i]), 0);
    out.write('\n');
  }
  const char* end = "END\n";
  while (*end) out.write(*end++);
  for (;;) {
  }
}
"""


def build(tmp_path: Path) -> Path:
    source = PROGRAM
    for name, values in (("NUMBERS", NUMBERS), ("TENTHS", TENTHS), ("DIVIDENDS", [n for n, _ in DIVISIONS]),
                         ("DIVISORS", [d for _, d in DIVISIONS])):
        source = source.replace("{" + name + "}", "{" + ", ".join(f"{v}UL" for v in values) + "}")
    (tmp_path / "main.cpp").write_text(source)
    elf = tmp_path / "decimal.elf"
    subprocess.run(["avr-g++", "-mmcu=atmega328p", "-Os", "-std=gnu++11", "-DF_CPU=16000000UL",
                    "-DESPAT_SMALL_DECIMAL=1", str(tmp_path / "main.cpp"), str(LIBRARY / "EspAtDecimal.S"),
                    "-o", str(elf)], check=True)
    return elf


def expected() -> bytes:
    lines = [str(n) for n in NUMBERS]
    lines += [f"{n // 10}.{n % 10}" for n in TENTHS]
    lines += [str(n // d) for n, d in DIVISIONS]
    return ("\n".join(lines) + "\nEND\n").encode()


def test_the_writer_prints_what_print_prints_and_the_division_divides(tmp_path, fake):
    elf = build(tmp_path)
    with Uno.sketch(elf, esp=fake, wiring="softserial") as uno:
        uno.wait_for(b"END\n", timeout=60)
        got = uno.output
    assert got == expected()
