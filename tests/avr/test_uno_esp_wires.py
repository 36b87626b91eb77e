"""The virtual Uno's other wires to the fake ESP-01 (issue 17): RST and CH_PD on Uno pins, and a line whose rate
changes at both ends after AT+UART_CUR, as on hardware.

A small AVR program (ESP-01 on pins 0/1 at 115200, so the USB port sees what it sends) does what a sketch does and
says what it got on its last line.
"""
from __future__ import annotations

import socket
import subprocess
import time
from pathlib import Path

import pytest
import serial

from esp8266sim import SimConfig, Simulator
from unosim import Uno
from unosim.fakewires import wire_to_fake
from unotools import read_until_seen, until_answering

PROGRAM = r"""
#define F_CPU 16000000UL
#include <avr/io.h>
#include <string.h>
#include <util/delay.h>
#define UBRR_115200 16  /* with U2X: 117647 baud, 2 % off */
#define UBRR_57600 34   /* 57142 */
static void rate(uint16_t ubrr) { UCSR0A = _BV(U2X0); UBRR0 = ubrr; UCSR0B = _BV(TXEN0) | _BV(RXEN0); }
static void say(const char *s) { while (*s) { while (!(UCSR0A & _BV(UDRE0))) {} UDR0 = *s++; } }
static void drain(void) { while (UCSR0A & _BV(RXC0)) (void)UDR0; }
/* 1 when `want` arrives on RX within `ms` */
static int expect(const char *want, uint16_t ms) {
  uint8_t n = 0, len = strlen(want);
  for (uint32_t t = 0; t < (uint32_t)ms * 10; t++) {
    if (UCSR0A & _BV(RXC0)) {
      char c = UDR0;
      n = c == want[n] ? n + 1 : c == want[0];
      if (n == len) return 1;
    }
    _delay_us(100);
  }
  return 0;
}
int main(void) {
  rate(UBRR_115200);
  _delay_ms(300);
  drain();
  say("AT\r\n");
  int first = expect("OK\r\n", 2000);
#if defined(PULSE_PIN)
  PORTD &= ~_BV(PULSE_PIN);
  DDRD |= _BV(PULSE_PIN);       /* low for 100 ms, then released: the module's pull-up takes it high */
  _delay_ms(100);
  DDRD &= ~_BV(PULSE_PIN);
  int second = expect("ready", 5000);
#else
  say("AT+UART_CUR=57600,8,1,0,0\r\n");
  first = first && expect("OK\r\n", 2000);
#if defined(AT_ONCE)
  rate(UBRR_57600);             /* the next command at once, at the new rate, as a driver may send it */
#else
#if defined(FOLLOW)
  _delay_ms(5);
  rate(UBRR_57600);
#endif
  _delay_ms(50);
  drain();
#endif
  say("AT\r\n");
  int second = expect("OK\r\n", 2000);
  rate(UBRR_115200);
#endif
  _delay_ms(20);
  say(first ? "\r\nfirst yes" : "\r\nfirst no");
  say(second ? ", second yes\r\n" : ", second no\r\n");
  for (;;) {}
}
"""


@pytest.fixture(scope="module")
def program(tmp_path_factory):
    work = tmp_path_factory.mktemp("espwires")
    (work / "program.c").write_text(PROGRAM)

    def build(*defines: str) -> Path:
        elf = work / ("program" + "".join(f"-{d}" for d in defines) + ".elf")
        if not elf.exists():
            subprocess.run(["avr-gcc", "-mmcu=atmega328p", "-Os", *(f"-D{d}" for d in defines), "-o", str(elf),
                            str(work / "program.c")], check=True)
        return elf
    return build


ECHO = r"""
#define F_CPU 16000000UL
#include <avr/io.h>
int main(void) {       /* UART0 at 115200 (U2X, UBRR 16): every byte received is sent back */
  UCSR0A = _BV(U2X0); UBRR0 = 16; UCSR0B = _BV(TXEN0) | _BV(RXEN0);
  for (;;) {
    if (!(UCSR0A & _BV(RXC0))) continue;
    char c = UDR0;
    while (!(UCSR0A & _BV(UDRE0))) {}
    UDR0 = c;
  }
}
"""


@pytest.fixture(scope="module")
def echo_elf(tmp_path_factory) -> Path:
    work = tmp_path_factory.mktemp("echo")
    (work / "echo.c").write_text(ECHO)
    subprocess.run(["avr-gcc", "-mmcu=atmega328p", "-Os", "-o", str(work / "echo.elf"), str(work / "echo.c")],
                   check=True)
    return work / "echo.elf"


def tail_of_the_ok(elf: Path, wiring: str, new_rate: int) -> bytes:
    """What reaches the board's USB port of an OK whose last two bytes the module sent (at the old rate) only after
    the harness was told of the module's new rate: a module's socket here, not the fake, so the order is the test's."""
    with socket.create_server(("127.0.0.1", 0)) as server:
        board = Uno(f"127.0.0.1:{server.getsockname()[1]}", wiring=wiring, firmware=elf, esp_rst=None)
        usb_rate = 115200 if wiring == "hwserial" else 9600
        with board, serial.Serial(board.port, usb_rate, timeout=0.2) as usb:   # the open resets the board
            module, _ = server.accept()
            with module:
                sent, got = 0, b""
                deadline = time.monotonic() + 30
                while b"~" not in got:          # the sketch runs once what the module sends reaches the port
                    assert time.monotonic() < deadline, got
                    module.sendall(b"~")
                    sent += 1
                    got += usb.read(16)
                usb.timeout = 10
                module.sendall(b"\r\nOK")
                sent += 4
                assert usb.read_until(b"OK").endswith(b"OK")
                board.set_esp_baud(new_rate, after=sent + 2)    # the module switches once its "\r\n" is out
                board.free_ram()            # answered once the line before it was taken
                module.sendall(b"\r\n")
                return usb.read_until(b"\r\n")


def test_the_tail_of_the_ok_to_uart_cur_crosses_at_the_old_rate_on_pins_0_1(echo_elf):
    """The harness took the new rate before the tail of the OK came through the socket: it read the tail at the new
    rate, and the board got junk instead of its last CR LF."""
    assert tail_of_the_ok(echo_elf, "hwserial", 57600).endswith(b"\r\n")


def test_the_tail_of_the_ok_to_uart_cur_crosses_at_the_old_rate_on_softserial(built):
    assert tail_of_the_ok(built / "bridge" / "firmware.elf", "softserial", 19200).endswith(b"\r\n")


SOFT = r"""
#define F_CPU 16000000UL
#include <avr/io.h>
#include <util/delay_basic.h>
/* The ESP-01 on pins 2/3, bit by bit as SoftwareSerial does it (each bit sampled at its middle). */
static uint16_t bit4 = F_CPU / 9600 / 4;      /* a bit, in delay loops of 4 cycles */
static void put(uint8_t b) {
  PORTD &= ~_BV(PORTD3);
  _delay_loop_2(bit4);
  for (uint8_t i = 0; i < 8; i++, b >>= 1) {
    if (b & 1) PORTD |= _BV(PORTD3); else PORTD &= ~_BV(PORTD3);
    _delay_loop_2(bit4);
  }
  PORTD |= _BV(PORTD3);
  _delay_loop_2(bit4);
}
static void say(const char *s) { while (*s) put(*s++); }
/* the next byte on pin 2, returned at the middle of its last data bit */
static uint8_t get(void) {
  while (!(PIND & _BV(PIND2))) {}   /* the previous byte's last bits */
  while (PIND & _BV(PIND2)) {}      /* a start bit */
  _delay_loop_2(bit4 / 2);
  uint8_t d = 0;
  for (uint8_t i = 0; i < 8; i++) {
    _delay_loop_2(bit4);
    d >>= 1;
    if (PIND & _BV(PIND2)) d |= 0x80;
  }
  return d;
}
int main(void) {
  PORTD |= _BV(PORTD2) | _BV(PORTD3);
  DDRD |= _BV(DDD3);
  say("hi\r\n");                   /* listening from the end of its LF's stop bit on */
  const char *want = "OK\r\n";
  uint8_t n = 0;
  while (want[n]) {
    char c = get();
    n = c == want[n] ? n + 1 : c == want[0];
  }
  _delay_loop_2(bit4 * 3 / 4);      /* SoftwareSerial's interrupt ends 3/4 of a bit after the last data bit */
  bit4 = F_CPU / 19200 / 4;         /* then the sketch moves to the module's new rate and talks at once */
  say("AT\r\n");
  for (uint8_t i = 0; i < 100; i++) _delay_loop_2(bit4);   /* a pause, then one more byte: the end */
  put('!');
  for (;;) {}
}
"""


def heard(module: socket.socket, end: bytes) -> bytes:
    """What the module hears up to `end`, and `end` itself."""
    got = b""
    while not got.endswith(end):
        chunk = module.recv(1)
        assert chunk, got
        got += chunk
    return got


def test_a_sketch_that_talks_at_the_new_rate_right_after_the_ok_is_heard_at_it(tmp_path):
    """The module switches both ways once its OK is out; a SoftwareSerial sketch that moves to the new rate as it
    reads the OK's LF and sends at once starts its first byte within that LF's stop bit. The harness followed in
    the board's direction only at a poll after that stop bit, once its own decoder was idle: it decoded the
    sketch's command at the old rate, and the module heard junk. A module's socket here, not the fake, so the
    harness knows of the new rate before the OK comes (as the fake tells it) and the timing is the sketch's."""
    (tmp_path / "soft.c").write_text(SOFT)
    elf = tmp_path / "soft.elf"
    subprocess.run(["avr-gcc", "-mmcu=atmega328p", "-Os", "-o", str(elf), str(tmp_path / "soft.c")], check=True)
    with socket.create_server(("127.0.0.1", 0)) as server:
        board = Uno(f"127.0.0.1:{server.getsockname()[1]}", wiring="softserial", firmware=elf, esp_rst=None)
        with board:                         # powered on, Optiboot starts the sketch at once
            module, _ = server.accept()
            with module:
                module.settimeout(30)
                assert heard(module, b"\n") == b"hi\r\n"
                board.set_esp_baud(19200, after=7)      # the module switches once its OK is out
                board.free_ram()                        # answered once the line before it was taken
                # the board may still be finishing its LF's stop bit: a byte with a single low bit first, which a
                # receiver that comes late misses whole and never takes a data bit of for a start bit
                module.sendall(b"\xff\r\nOK\r\n")
                assert heard(module, b"!") == b"AT\r\n!"     # the pause let even a late wire catch up


def test_the_fake_tells_the_board_of_its_new_rate_while_the_ok_is_still_on_its_way():
    """What the harness needs to follow at the right byte: the new rate with the count of bytes the module will have
    sent by the end of its OK, told before that OK has crossed (it was told once the OK was out, too late for a
    sketch that reads the OK and talks at once, with the count of that moment)."""
    config = SimConfig(baud=9600, latency_scale=0)      # paced: the OK takes 6 ms to cross
    with Simulator(config) as sim:
        told = []

        class Board:                                    # what wire_to_fake uses of an Uno
            on_esp_pin = None

            def set_esp_baud(self, rate: int, after: int) -> None:
                told.append((rate, after, sim.host_sent))   # on the simulator's loop
        wire_to_fake(Board(), sim)
        with socket.create_connection(sim.serve_tcp().split("//", 1)[1].split(":")) as host:
            host.settimeout(10)
            host.sendall(b"AT+UART_CUR=19200,8,1,0,0\r\n")
            got = b""
            while not got.endswith(b"OK\r\n"):
                chunk = host.recv(64)
                assert chunk, got
                got += chunk
    assert got.endswith(b"AT+UART_CUR=19200,8,1,0,0\r\r\n\r\nOK\r\n"), got  # after the boot's last bytes, if any
    [(rate, after, then)] = told
    assert (rate, after) == (19200, len(got)) and then < len(got), told



def test_at_rst_returns_the_module_to_its_saved_rate_and_tells_the_board_after_the_ok():
    """AT+UART_CUR's rate lasts until a reset: after AT+RST the module boots at its saved rate (UART_DEF, here the
    wire's 9600). The harness is told the saved rate with the count of bytes up to the end of the reset's OK, which
    still crosses at the current rate; `ready` comes at the saved one."""
    config = SimConfig(baud=9600, latency_scale=0)
    with Simulator(config) as sim:
        told = []

        class Board:
            on_esp_pin = None

            def set_esp_baud(self, rate: int, after: int) -> None:
                told.append((rate, after))
        wire_to_fake(Board(), sim)
        with socket.create_connection(sim.serve_tcp().split("//", 1)[1].split(":")) as host:
            host.settimeout(10)

            def ask(line: bytes, tail: bytes, got: bytes) -> bytes:
                """`got` and the answer to `line`, up to and with `tail`."""
                start = len(got)
                host.sendall(line)
                while tail not in got[start:]:
                    chunk = host.recv(64)
                    assert chunk, got
                    got += chunk
                return got
            got = ask(b"AT+UART_CUR=19200,8,1,0,0\r\n", b"\r\nOK\r\n", b"")
            got = ask(b"AT+RST\r\n", b"\r\nOK\r\n", got)
            through_ok = got.rindex(b"\r\nOK\r\n") + 6
            while b"ready\r\n" not in got[through_ok:]:
                chunk = host.recv(64)
                assert chunk, got
                got += chunk
    assert told[0][0] == 19200 and told[1:] == [(9600, through_ok)], (told, through_ok, got)


def test_after_uart_cur_a_sketch_that_talks_at_once_at_the_new_rate_is_answered(program):
    """The same with the fake on pins 0/1: it told the harness of the new rate once its OK had crossed, and the
    harness read its control lines every 64th poll (6.4 ms of the board's time), long after the program had sent its
    AT at the new rate."""
    assert outcome(program("AT_ONCE")) == "first yes, second yes"


def outcome(elf: Path, **pins) -> str:
    """What the program says on its last line, run against a fake at 115200 wired to the board."""
    config = SimConfig(networks={"HomeNet": "s3cr3t99"}, baud=115200, latency_scale=0.1)
    with Simulator(config) as sim:
        board = Uno(sim.serve_tcp().split("//", 1)[1], wiring="hwserial", firmware=elf, **pins)
        wire_to_fake(board, sim)
        with board, serial.Serial(board.port, 115200, timeout=0.2) as usb:    # the open resets the board
            got = read_until_seen(usb, rb", second [^\n]*\n", 30)     # the last line, to its end
    line = got[got.rfind(b"first "):].strip()
    assert line.startswith(b"first "), got
    return line.decode()


@pytest.mark.parametrize("wire", ["esp_rst", "esp_ch_pd"])
def test_a_pulse_on_the_pin_wired_to_rst_or_ch_pd_reboots_the_module(program, wire):
    elf = program("PULSE_PIN=5")
    pins = {"esp_rst": None, "esp_ch_pd": None, wire: 5}
    assert outcome(elf, **pins) == "first yes, second yes"


def test_a_pulse_on_a_pin_wired_to_nothing_reboots_nothing(program):
    assert outcome(program("PULSE_PIN=5"), esp_rst=4, esp_ch_pd=None) == "first yes, second no"


def test_after_uart_cur_a_sketch_that_follows_the_rate_is_answered(program):
    assert outcome(program("FOLLOW")) == "first yes, second yes"


def test_after_uart_cur_a_sketch_at_the_old_rate_reads_junk(program):
    assert outcome(program("STAY")) == "first yes, second no"


def test_after_uart_cur_the_softserial_wire_runs_at_the_new_rate(built):
    """The bridge sketch keeps SoftwareSerial at 9600: once the module moved to 19200 it hears only junk."""
    config = SimConfig(networks={"HomeNet": "s3cr3t99"}, baud=9600, latency_scale=0.1)
    with Simulator(config) as sim:
        board = Uno(sim.serve_tcp().split("//", 1)[1], firmware=built / "bridge" / "firmware.elf")
        wire_to_fake(board, sim)
        with board, serial.Serial(board.port, 9600, timeout=0.5) as usb:
            until_answering(usb)
            usb.reset_input_buffer()
            # The round trip through the emulated board is slower than real time on a loaded host: the OK is
            # waited for with a generous bound (read_until returns as soon as it is through), and the window in
            # which a wire at the right rate would bring the next OK grows with the round trip it measured.
            usb.timeout = 20
            asked = time.monotonic()
            usb.write(b"AT+UART_CUR=19200,8,1,0,0\r\n")
            answer = usb.read_until(b"OK\r\n")
            usb.timeout = max(0.5, 4 * (time.monotonic() - asked))
            assert b"OK\r\n" in answer, answer      # the module told the board's wire its new rate as this OK
            usb.write(b"AT\r\n")                   # left it: the wire follows once it is through
            heard = usb.read(64)
    assert b"OK" not in heard, heard
