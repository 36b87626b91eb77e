// The ESP-01 on pins 2 (Uno RX, from the ESP's TX) and 3 (Uno TX) at ESPAT_SOFT_BAUD (9600 unless the build says
// otherwise), the way SoftwareSerial does it:
// the same bit timing (delay loops of 4 cycles, sampling each bit at its middle), the same 64-byte receive buffer
// filled from the pin-change interrupt, interrupts off while a byte goes out. The pins and the rate are fixed at
// compile time; SoftwareSerial keeps them in RAM and looks the port registers up through the core's tables at run
// time, which costs about 900 B of flash more for the same wire.
// Include it from one source file only: it defines the pin-change interrupt of port D (so it cannot share a sketch
// with SoftwareSerial). The ESP-01 is then `espUart`: `EspAtDrv esp(espUart);` and `espUart.begin();` in setup().
#pragma once
#include "EspAtRxStream.h"
#include <util/delay_basic.h>

#ifndef ESPAT_SOFT_BAUD
// At 16 MHz this software UART receives the module's back-to-back bytes at 38400, never at 115200 (nor 57600)
// (tests/avr/test_soft_baud.py shows both); 9600 leaves the Uno time for everything else.
#define ESPAT_SOFT_BAUD 9600
#endif

class EspAtSoftUart : public EspAtRxStream {
 public:
  void begin() {
    PORTD |= _BV(PORTD3);  // TX idles high
    DDRD |= _BV(DDD3);
    PORTD |= _BV(PORTD2);  // RX with the pull-up, as SoftwareSerial leaves it
    PCMSK2 |= _BV(PCINT18);
    PCICR |= _BV(PCIE2);
  }
  size_t write(uint8_t b) override {
    uint8_t sreg = SREG;
    cli();  // a byte's bits must not be stretched by an interrupt
    PORTD &= ~_BV(PORTD3);  // start bit
    _delay_loop_2(kTxDelay);
    for (uint8_t i = 8; i > 0; --i) {
      if (b & 1) {
        PORTD |= _BV(PORTD3);
      } else {
        PORTD &= ~_BV(PORTD3);
      }
      _delay_loop_2(kTxDelay);
      b >>= 1;
    }
    PORTD |= _BV(PORTD3);  // stop bit
    SREG = sreg;
    _delay_loop_2(kTxDelay);
    return 1;
  }
  using Print::write;

  // From the interrupt: a falling edge on RX is a start bit. The pin's interrupt is off while the byte's own
  // edges pass, and back on within the stop bit.
  void receive() {
    if (PIND & _BV(PIND2)) return;  // a rising edge
    PCMSK2 &= ~_BV(PCINT18);
    _delay_loop_2(kCentering);
    uint8_t d = 0;
    for (uint8_t i = 8; i > 0; --i) {
      _delay_loop_2(kIntrabit);
      d >>= 1;
      if (PIND & _BV(PIND2)) d |= 0x80;
    }
    received(d);
    _delay_loop_2(kStopbit);
    PCMSK2 |= _BV(PCINT18);
  }

 private:
  // SoftwareSerial's delays at 16 MHz (its begin(), gcc >= 4.8 timings), in 4-cycle counts.
  static const uint16_t kBit = F_CPU / ESPAT_SOFT_BAUD / 4;
  static const uint16_t kTxDelay = kBit - 15 / 4;
  // At high rates the interrupt's own entry already uses up half a bit: wait at least one loop, never wrap around.
  static const int16_t kCenteringWanted = (int16_t)(kBit / 2) - (4 + 4 + 75 + 17 - 23) / 4;
  static const uint16_t kCentering = kCenteringWanted > 1 ? kCenteringWanted : 1;
  static const uint16_t kIntrabit = kBit - 23 / 4;
  static const uint16_t kStopbit = kBit * 3 / 4 - (37 + 11) / 4;
};

EspAtSoftUart espUart;
ISR(PCINT2_vect) { espUart.receive(); }
